import { randomBytes, randomUUID } from "node:crypto";
import { hmacHex } from "../webhooks/signature";
import { baseUrlOption, defaultBaseUrl, integerOption, numberOption, parseOptions, type Command, type CommandIO } from "./command";
import { managementTokenFrom } from "./secrets";
import { STEP_MINUTES } from "./simulated-fleet";
import { runSimulation, type SimulationProgress, type SimulationSummary } from "./simulation-run";
import { postWebhook, verifyBody } from "./smartcar-webhook";

export const simulateCommand: Command = {
  name: "simulate",
  summary: "a simulated fleet posting signed Smartcar deliveries: the demo and the load tool",
  help: `Usage: fleetgraph simulate [--url <base URL>] [--vehicles <n>] [--duration <seconds>] [--rate <deliveries/s>]
                          [--concurrency <n>] [--seed <text>] [--json]

Sends a VERIFY, then runs a fleet of vehicles (one Smartcar user each) against <base URL>/webhooks/smartcar,
signed with SMARTCAR_MANAGEMENT_TOKEN like Smartcar signs: charging curves, trips that move location,
odometer and speed, booleans (closure-islocked, charge-ischarging) and text (charge-detailedchargingstatus),
signals some models are not capable of (VEHICLE_NOT_CAPABLE), VEHICLE_ERRORs that later resolve,
Smartcar-style retries (same eventId, new deliveryId), byte-for-byte duplicates and out-of-order
deliveries. Each delivery is ${STEP_MINUTES} minutes of a vehicle's life, stamped with the real time.
Progress goes to stderr, the summary to stdout.

Options:
  --url <base URL>         the service; default http://localhost:$PORT (4000)
  --vehicles <n>           fleet size, 1 to 10000; default 5
  --duration <seconds>     how long to send, up to 86400; default 30
  --rate <deliveries/s>    new deliveries per second, retries included; default 2 per vehicle
  --concurrency <n>        requests in flight at most, 1 to 1000; default 8
  --seed <text>            the same seed gives the same vehicles, users and scenario; default random
  --json                   print the summary as JSON
  -h, --help               this text

Environment:
  SMARTCAR_MANAGEMENT_TOKEN  signs every delivery (the service's own; the first of a rotation list).
                             Unset: deliveries go unsigned, which only a development service accepts.

Examples:
  npx fleetgraph simulate
  SMARTCAR_MANAGEMENT_TOKEN=... npx fleetgraph simulate --url https://fleetgraph.example.com --vehicles 200 --duration 300 --rate 100 --concurrency 32`,

  async run(argv, io) {
    const options = parseOptions(argv, {
      url: { type: "string" },
      vehicles: { type: "string" },
      duration: { type: "string" },
      rate: { type: "string" },
      concurrency: { type: "string" },
      seed: { type: "string" },
      json: { type: "boolean", default: false },
    });
    if (options.help) {
      io.out(this.help);
      return 0;
    }
    const baseUrl = baseUrlOption(options.url, defaultBaseUrl(io.env));
    const vehicles = integerOption("vehicles", options.vehicles, 5, 1, 10_000);
    const durationSeconds = numberOption("duration", options.duration, 30, 86_400);
    const rate = numberOption("rate", options.rate, vehicles * 2, 100_000);
    const concurrency = integerOption("concurrency", options.concurrency, 8, 1, 1000);
    const seed = options.seed ?? randomBytes(4).toString("hex");
    const managementToken = managementTokenFrom(io.env);

    if (!(await verifyFirst(baseUrl, managementToken, io))) return 1;
    io.err(`simulate: ${vehicles} vehicles for ${durationSeconds} s at ${rate} deliveries/s (seed ${seed}) → ${baseUrl}/webhooks/smartcar`);
    const progress = progressPrinter(io);
    const summary = await runSimulation({ baseUrl, vehicles, durationSeconds, rate, concurrency, seed, managementToken }, progress.update);
    progress.finish();
    if (options.json) io.out(JSON.stringify(summary, null, 2));
    else io.out(describe(summary));
    return summary.sent > 0 && Object.keys(summary.errors).length === 0 ? 0 : 1;
  },
};

/**
 * Smartcar verifies a webhook before it sends anything, and so do we: a wrong token shows here,
 * once, instead of as thousands of 401s.
 */
async function verifyFirst(baseUrl: string, managementToken: string | undefined, io: CommandIO): Promise<boolean> {
  const challenge = randomUUID();
  const result = await postWebhook(baseUrl, verifyBody(challenge), managementToken);
  if (result.status === 0) {
    io.err(`simulate: cannot reach ${baseUrl}: ${result.failure}`);
    return false;
  }
  const answer = (result.body as { challenge?: unknown } | undefined)?.challenge;
  if (managementToken === undefined) {
    if (result.status === 503) {
      io.err("simulate: VERIFY skipped: neither this command nor the service has SMARTCAR_MANAGEMENT_TOKEN; sending unsigned deliveries");
      return true;
    }
    io.err("simulate: the service has a SMARTCAR_MANAGEMENT_TOKEN: set the same one here to sign deliveries");
    return false;
  }
  if (result.status === 200 && answer === hmacHex(managementToken, challenge)) {
    io.err("simulate: VERIFY answered correctly for SMARTCAR_MANAGEMENT_TOKEN");
    return true;
  }
  io.err(`simulate: VERIFY failed (HTTP ${result.status}): the service's SMARTCAR_MANAGEMENT_TOKEN is not the one set here`);
  return false;
}

/** On a terminal one line rewritten every second; in a pipe or CI log a line every 5 s. */
function progressPrinter(io: CommandIO): { update(progress: SimulationProgress): void; finish(): void } {
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  const update = (progress: SimulationProgress) => {
    const line =
      `simulate: ${progress.elapsedSeconds.toFixed(0)} s  sent ${progress.sent}  applied ${progress.applied}` +
      `  duplicate ${progress.duplicate}  failed ${progress.failed}  ${(progress.sent / Math.max(progress.elapsedSeconds, 0.001)).toFixed(1)}/s`;
    if (tty) {
      process.stderr.write(`\r${line}\x1b[K`);
      return;
    }
    if (progress.elapsedSeconds - lastLine >= 5) {
      lastLine = progress.elapsedSeconds;
      io.err(line);
    }
  };
  return { update, finish: () => tty && process.stderr.write("\n") };
}

function describe(summary: SimulationSummary): string {
  const errors = Object.entries(summary.errors)
    .map(([status, count]) => `${status}: ${count}`)
    .join(", ");
  const lines = [
    "",
    `sent ${summary.sent} deliveries of ${summary.events} events in ${summary.seconds} s: ${summary.deliveriesPerSecond} deliveries/s`,
    `  applied ${summary.applied}, duplicate ${summary.duplicate}${summary.test > 0 ? `, test ${summary.test}` : ""}, failed ${errors === "" ? "0" : errors}`,
    `  delivered again on purpose ${summary.redelivered} (each should be a duplicate), out of order ${summary.outOfOrder}, retried after a failure ${summary.retriedAfterFailure}`,
    `  latency p50 ${summary.latencyMs.p50} ms, p95 ${summary.latencyMs.p95} ms, max ${summary.latencyMs.max} ms`,
    ...summary.sampleErrors.map((error) => `  error: ${error}`),
    `seed ${summary.seed} (--seed ${summary.seed} repeats this fleet); vehicles and their users:`,
    ...summary.vehicles.slice(0, 10).map((vehicle) => `  ${vehicle.id}  user ${vehicle.userId}  ${vehicle.make} ${vehicle.model} ${vehicle.year}`),
  ];
  if (summary.vehicles.length > 10) lines.push(`  … and ${summary.vehicles.length - 10} more (--json lists all)`);
  return lines.join("\n");
}
