import { randomUUID } from "node:crypto";
import { hmacHex } from "../webhooks/signature";

/**
 * Sending deliveries the way Smartcar does (payload 4.0, see /work/shared/smartcar.md §1): one event per
 * POST, compact JSON, `SC-Signature` = hex HMAC-SHA256 of the exact body bytes under the Application
 * Management Token. Each attempt of an event keeps its `eventId` and gets a new `deliveryId` and
 * `deliveredAt`.
 */

export interface SignalRef {
  readonly code: string;
  readonly name: string;
  readonly group: string;
}

/** A signal of a VEHICLE_STATE: a value read at `oemUpdatedAt`, or an error (no body, no meta). */
export type SignalEntry =
  | (SignalRef & { readonly body: unknown; readonly oemUpdatedAt: number; readonly retrievedAt: number })
  | (SignalRef & { readonly error: { readonly type: string; readonly code: string | null } });

export interface VehicleRef {
  readonly id: string;
  readonly userId: string;
  readonly make: string;
  readonly model: string;
  readonly year: number;
}

export interface ErrorEntry {
  readonly type: string;
  readonly code: string | null;
  readonly state: "ERROR" | "RESOLVED";
  readonly description: string;
  readonly suggestedUserMessage?: string;
  readonly resolutionType: string | null;
  readonly signals: readonly SignalRef[];
}

/** An event as Smartcar would deliver it, before an attempt gives it a deliveryId and deliveredAt. */
export type SmartcarEvent =
  | {
      readonly eventId: string;
      readonly eventType: "VEHICLE_STATE";
      readonly vehicle: VehicleRef;
      readonly signals: readonly SignalEntry[];
      /** Codes of the signals that changed; empty for a FIRST_DELIVERY. */
      readonly triggers: readonly SignalRef[] | "FIRST_DELIVERY";
    }
  | {
      readonly eventId: string;
      readonly eventType: "VEHICLE_ERROR";
      readonly vehicle: VehicleRef;
      readonly errors: readonly ErrorEntry[];
    };

const WEBHOOK = { webhookId: "6a0a4d55-5b1e-4c4e-9a34-0d7c1b0f1f53", webhookName: "fleetgraph simulator" };

/** The exact bytes of one delivery attempt of `event`. */
export function attemptBody(event: SmartcarEvent, deliveredAt: number, deliveryId: string = randomUUID()): string {
  const user = { id: event.vehicle.userId };
  const vehicle = { id: event.vehicle.id, make: event.vehicle.make, model: event.vehicle.model, year: event.vehicle.year };
  const meta = { version: "4.0", ...WEBHOOK, deliveryId, deliveredAt, mode: "LIVE" };
  // The envelope both event types share; the rest (keys in Smartcar's order) is each type's own.
  const body = (data: object, rest: object) =>
    JSON.stringify({ eventId: event.eventId, eventType: event.eventType, data: { user, vehicle, ...data }, ...rest });
  if (event.eventType === "VEHICLE_ERROR") {
    const errors = event.errors.map((error) => ({
      type: error.type,
      code: error.code,
      state: error.state,
      description: error.description,
      ...(error.suggestedUserMessage === undefined ? {} : { suggestedUserMessage: error.suggestedUserMessage }),
      docURL: "https://smartcar.com/docs/errors/api-errors",
      resolution: { type: error.resolutionType },
      signals: error.signals.map(({ code, name, group }) => ({ code, name, group })),
    }));
    return body({ errors }, { meta });
  }
  const signals = event.signals.map((signal) => {
    const ref = { code: signal.code, name: signal.name, group: signal.group };
    if ("error" in signal) return { ...ref, status: { value: "ERROR", error: signal.error } };
    return {
      ...ref,
      body: signal.body,
      meta: { oemUpdatedAt: signal.oemUpdatedAt, retrievedAt: signal.retrievedAt },
      status: { value: "SUCCESS" },
    };
  });
  const triggers =
    event.triggers === "FIRST_DELIVERY"
      ? [{ type: "FIRST_DELIVERY" }]
      : event.triggers.map(({ code, name, group }) => ({ type: "SIGNAL_UPDATED", signal: { name, code, group } }));
  return body({ signals }, { triggers, meta: { ...meta, signalCount: event.signals.length } });
}

/** A VERIFY request with a fresh challenge. */
export function verifyBody(challenge: string): string {
  return JSON.stringify({
    eventId: randomUUID(),
    eventType: "VERIFY",
    data: { challenge },
    meta: { version: "4.0", ...WEBHOOK, deliveryId: randomUUID(), deliveredAt: Date.now() },
  });
}

export interface PostResult {
  /** HTTP status, or 0 when the request failed before an answer (connection refused, timeout). */
  readonly status: number;
  readonly body: unknown;
  /** Why the request failed, when status is 0. */
  readonly failure?: string;
  readonly milliseconds: number;
}

/**
 * POSTs one delivery to `<baseUrl>/webhooks/smartcar`, signed when a management token is given.
 * Never throws: a network failure is a result, like a non-2xx answer, because Smartcar treats both
 * the same way (it retries).
 */
export async function postWebhook(baseUrl: string, body: string, managementToken: string | undefined, timeoutMs = 15_000): Promise<PostResult> {
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Smartcar-Webhooks/4.0 (fleetgraph simulate)" };
  if (managementToken !== undefined) headers["sc-signature"] = hmacHex(managementToken, body);
  const started = performance.now();
  try {
    const response = await fetch(`${baseUrl}/webhooks/smartcar`, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, milliseconds: performance.now() - started };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return {
      status: 0,
      body: undefined,
      failure: `${error instanceof Error ? error.message : String(error)}${cause}`,
      milliseconds: performance.now() - started,
    };
  }
}

/** The delivery status the service answered (`applied`, `duplicate`, `test`), if it answered one. */
export function deliveryStatus(result: PostResult): string | undefined {
  const body = result.body as { status?: unknown } | undefined;
  return typeof body?.status === "string" ? body.status : undefined;
}
