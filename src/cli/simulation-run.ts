import { SeededRandom } from "./seeded-random";
import { SimulatedFleet, type FleetVehicle } from "./simulated-fleet";
import { attemptBody, deliveryStatus, postWebhook, type PostResult, type SmartcarEvent } from "./smartcar-webhook";

/**
 * Drives a simulated fleet against a running service: fresh events at `rate` per second, at most
 * `concurrency` requests in flight, and Smartcar's delivery habits on top (D-DB in the Smartcar notes):
 * - a failed attempt (non-2xx or no answer) is retried up to 3 times, same eventId, new deliveryId and
 *   deliveredAt, after Smartcar's 25 s / 50 s / 100 s scaled down 100 times;
 * - some successful events are retried anyway (Smartcar timed out on its side), and some are delivered
 *   twice byte for byte (at-least-once delivery): both must come back as `duplicate`;
 * - some events are held back and delivered after the same vehicle's next one (out of order).
 */

export interface SimulationOptions {
  readonly baseUrl: string;
  readonly vehicles: number;
  readonly durationSeconds: number;
  readonly rate: number;
  readonly concurrency: number;
  readonly seed: string;
  /** Signs deliveries; undefined sends them unsigned (a development service without a token). */
  readonly managementToken: string | undefined;
}

export interface SimulationProgress {
  readonly elapsedSeconds: number;
  readonly sent: number;
  readonly applied: number;
  readonly duplicate: number;
  readonly failed: number;
}

export interface SimulationSummary {
  readonly seed: string;
  readonly vehicles: readonly FleetVehicle[];
  readonly seconds: number;
  /** HTTP requests made. */
  readonly sent: number;
  /** Distinct events generated. */
  readonly events: number;
  /** Answers by the delivery status the service gave: applied, duplicate, test. */
  readonly applied: number;
  readonly duplicate: number;
  readonly test: number;
  /** Failed attempts by HTTP status ("network" when there was no answer). */
  readonly errors: Record<string, number>;
  /** Attempts sent again because one failed (Smartcar's retry policy). */
  readonly retriedAfterFailure: number;
  /** Deliberate re-deliveries of events already delivered: each should be answered `duplicate`. */
  readonly redelivered: number;
  /** Events delivered after a newer one of the same vehicle. */
  readonly outOfOrder: number;
  readonly deliveriesPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly max: number };
  /** A few of the service's error answers, to say what went wrong. */
  readonly sampleErrors: readonly string[];
}

const RETRY_DELAYS_MS = [250, 500, 1000];
const SMARTCAR_RETRY_PROBABILITY = 0.04;
const DUPLICATE_PROBABILITY = 0.02;
const OUT_OF_ORDER_PROBABILITY = 0.05;

interface Attempt {
  readonly event: SmartcarEvent;
  /** Exact bytes to resend (a byte-for-byte duplicate); otherwise a new attempt is serialised. */
  readonly body?: string;
  /** 0 for the first attempt of an event. */
  readonly retry: number;
  readonly notBefore: number;
  /** A deliberate second delivery of an event already delivered. */
  readonly redelivery: boolean;
  /** Held back, now delivered after a newer event of its vehicle. */
  readonly late?: boolean;
  /** Decided when the event was made (so a seed gives the same scenario): deliver it again after success. */
  readonly deliverAgain?: "retry" | "duplicate";
}

export async function runSimulation(
  options: SimulationOptions,
  onProgress: (progress: SimulationProgress) => void = () => {},
): Promise<SimulationSummary> {
  const random = new SeededRandom(options.seed);
  const fleet = new SimulatedFleet(random, options.vehicles);
  const ready: Attempt[] = [];
  /** Events held back per vehicle, released once that vehicle's next event went out. */
  const held = new Map<string, Attempt>();
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const sampleErrors: string[] = [];
  const counts = { sent: 0, events: 0, applied: 0, duplicate: 0, test: 0, failed: 0, retriedAfterFailure: 0, redelivered: 0, outOfOrder: 0 };
  const inFlight = new Set<Promise<void>>();

  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const progress = () => onProgress({ elapsedSeconds: elapsed(), sent: counts.sent, applied: counts.applied, duplicate: counts.duplicate, failed: counts.failed });
  const ticker = setInterval(progress, 1000);

  const record = (attempt: Attempt, result: PostResult, deliveredBody: string) => {
    latencies.push(result.milliseconds);
    const status = result.status >= 200 && result.status < 300 ? deliveryStatus(result) : undefined;
    if (status === "applied" || status === "duplicate" || status === "test") {
      counts[status] += 1;
      if (attempt.deliverAgain && !attempt.redelivery) redeliver(attempt, deliveredBody);
      return;
    }
    counts.failed += 1;
    const key = result.status === 0 ? "network" : String(result.status);
    errors[key] = (errors[key] ?? 0) + 1;
    if (sampleErrors.length < 5) sampleErrors.push(result.failure ?? `HTTP ${result.status} ${JSON.stringify(result.body)}`);
    if (attempt.retry < RETRY_DELAYS_MS.length) {
      counts.retriedAfterFailure += 1;
      ready.push({ ...attempt, body: undefined, retry: attempt.retry + 1, notBefore: Date.now() + RETRY_DELAYS_MS[attempt.retry] });
    }
  };

  /** After a successful delivery: Smartcar's retry (new deliveryId) or a byte-for-byte duplicate. */
  const redeliver = (attempt: Attempt, body: string) => {
    const { event } = attempt;
    if (attempt.deliverAgain === "retry") ready.push({ event, retry: 0, notBefore: Date.now() + RETRY_DELAYS_MS[0], redelivery: true });
    else ready.push({ event, body, retry: 0, notBefore: Date.now() + 50, redelivery: true });
  };

  const send = (attempt: Attempt) => {
    const body = attempt.body ?? attemptBody(attempt.event, Date.now());
    counts.sent += 1;
    if (attempt.redelivery) counts.redelivered += 1;
    const request = postWebhook(options.baseUrl, body, options.managementToken).then((result) => record(attempt, result, body));
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
    // A vehicle's held-back event goes out after this newer one: out of order.
    const fresh = attempt.event.eventType === "VEHICLE_STATE" && attempt.retry === 0 && !attempt.redelivery && !attempt.late;
    const waiting = fresh ? held.get(attempt.event.vehicle.id) : undefined;
    if (waiting) {
      held.delete(attempt.event.vehicle.id);
      ready.push({ ...waiting, notBefore: Date.now(), late: true });
    }
  };

  /** The next attempt due now: a retry or released event first, else the fleet's next step. */
  const nextAttempt = (): Attempt | undefined => {
    const now = Date.now();
    const due = ready.findIndex((attempt) => attempt.notBefore <= now);
    if (due >= 0) return ready.splice(due, 1)[0];
    for (const event of fleet.next(now)) {
      counts.events += 1;
      // Every draw happens here, in the order events are made: a seed gives the same scenario.
      const deliverAgain = random.chance(SMARTCAR_RETRY_PROBABILITY) ? "retry" : random.chance(DUPLICATE_PROBABILITY) ? "duplicate" : undefined;
      const attempt: Attempt = { event, retry: 0, notBefore: now, redelivery: false, deliverAgain };
      const vehicleId = event.vehicle.id;
      if (event.eventType === "VEHICLE_STATE" && !held.has(vehicleId) && random.chance(OUT_OF_ORDER_PROBABILITY)) {
        counts.outOfOrder += 1;
        held.set(vehicleId, attempt);
        continue;
      }
      ready.push(attempt);
    }
    const index = ready.findIndex((attempt) => attempt.notBefore <= now);
    return index >= 0 ? ready.splice(index, 1)[0] : undefined;
  };

  const waitForRoom = async () => {
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  };

  try {
    const deadline = started + options.durationSeconds * 1000;
    for (let slot = 0; ; slot++) {
      const slotAt = started + (slot * 1000) / options.rate;
      if (slotAt >= deadline) break;
      await sleep(slotAt - performance.now());
      await waitForRoom();
      if (performance.now() >= deadline) break;
      const attempt = nextAttempt();
      if (attempt) send(attempt);
    }
    // Nothing is left behind: held-back events, pending retries and redeliveries still go out.
    for (const attempt of held.values()) ready.push({ ...attempt, notBefore: Date.now(), late: true });
    held.clear();
    while (ready.length > 0 || inFlight.size > 0) {
      const now = Date.now();
      const due = ready.findIndex((attempt) => attempt.notBefore <= now);
      if (due >= 0) {
        await waitForRoom();
        send(ready.splice(due, 1)[0]);
      } else if (inFlight.size > 0) {
        await Promise.race([...inFlight, sleep(50)]);
      } else {
        await sleep(Math.max(1, Math.min(...ready.map((attempt) => attempt.notBefore)) - now));
      }
    }
  } finally {
    clearInterval(ticker);
  }
  progress();

  const seconds = elapsed();
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => (latencies.length === 0 ? 0 : Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]));
  return {
    seed: options.seed,
    vehicles: fleet.members,
    seconds: Math.round(seconds * 100) / 100,
    sent: counts.sent,
    events: counts.events,
    applied: counts.applied,
    duplicate: counts.duplicate,
    test: counts.test,
    errors,
    retriedAfterFailure: counts.retriedAfterFailure,
    redelivered: counts.redelivered,
    outOfOrder: counts.outOfOrder,
    deliveriesPerSecond: Math.round((counts.sent / seconds) * 10) / 10,
    latencyMs: { p50: percentile(0.5), p95: percentile(0.95), max: Math.round(latencies.at(-1) ?? 0) },
    sampleErrors,
  };
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
