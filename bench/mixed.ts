/**
 * Mixed workload: does reading starve ingestion? The real service (compiled, in a child process) on
 * PostgreSQL, a fleet of VEHICLES vehicles of USERS Smartcar users seeded through real deliveries
 * (HISTORY each, spread over the last 30 days), SUBSCRIBERS graphql-ws subscribers (each one user's app
 * watching one of its vehicles' state of charge), then two phases of the same run:
 *
 *   quiet    deliveries at RATE a second for SECONDS, open loop (each sent on its schedule whatever
 *            the answers, so latency counts from the scheduled send and includes queueing; one still
 *            unanswered after 15 s, when Smartcar gives up, is "no answer" and counts 15 s); fan-out is
 *            the time from a delivery's scheduled send to each subscriber's arrival;
 *   loaded   the same, plus READERS concurrent reader loops sending the most expensive queries the
 *            limits accept: the fleet-filter attack (25 aliases × 20 `near` conditions with a 20,000 km
 *            radius, `first: 1`, `totalCount`) as a user who owns nothing and as an admin, and as an admin
 *            a 20-condition filter ordered by a signal, 100-vehicle pages with signals and their history,
 *            and 1,000-bucket `series`.
 *
 * Each reader kind has a ladder of variants, most expensive first; before the loaded phase each ladder
 * is walked down to the first variant the server does not refuse as too costly (QUERY_TOO_COMPLEX,
 * QUERY_TOO_DEEP, BAD_USER_INPUT), so the bench follows the limits wherever they are set. Readers count
 * every answer by outcome (ok, RATE_LIMITED, QUERY_TOO_COMPLEX, ...) and keep going; after RATE_LIMITED a
 * reader pauses a second. The user who owns nothing has the service's default limits (one token for all
 * its loops); each admin loop has a token of its own subject, so a budget of its own. The per-IP limit
 * stays off: every bench client shares 127.0.0.1.
 *
 * Readers run in a child process (this file with `--readers`): their answers (megabytes of JSON) are
 * parsed there, not on the event loop that sends deliveries and takes subscriber arrivals.
 *
 *   npm run bench:mixed                    # 200 vehicles, 50 users, 1,000 subscribers, 300/s, 2 × 20 s, 16 readers
 *   MIXED_RATE=300 MIXED_SECONDS=20 MIXED_READERS=16 npm run bench:mixed
 *   MIXED_VEHICLES=200 MIXED_USERS=50 MIXED_SUBSCRIBERS=1000 MIXED_HISTORY=30 npm run bench:mixed
 *   MIXED_MAX_CONCURRENT=2 npm run bench:mixed   # the service's GRAPHQL_MAX_CONCURRENT (unset: its default)
 *   BENCH_SMOKE=1 npm run bench:mixed      # seconds, for CI: checks every delivery got an answer (within 60 s); appends nothing
 *
 * Goal: delivery p99 loaded at most 2x quiet, and no 503 while reads run. Scratch database and server
 * are dropped and stopped afterwards, even on failure.
 */
import { fork, type ChildProcess } from "node:child_process";
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Client as WsClient } from "graphql-ws";
import {
  adminJwt,
  backendCpuSeconds,
  backendCpuSince,
  connectSubscribers,
  describeSocketError,
  exitOnError,
  knob,
  loops,
  onCleanup,
  percentile,
  postDelivery,
  processCpuSeconds,
  report,
  round,
  scratchDatabase,
  sendDelivery,
  SMOKE,
  startFleetgraph,
  userJwt,
  vehicleStateBody,
  type BenchSignal,
} from "./support";

const VEHICLES = knob("MIXED_VEHICLES", 200, 40);
const USERS = knob("MIXED_USERS", 50, 10);
const SUBSCRIBERS = knob("MIXED_SUBSCRIBERS", 1_000, 50);
const RATE = knob("MIXED_RATE", 300, 50);
const SECONDS = knob("MIXED_SECONDS", 20, 3);
const READERS = knob("MIXED_READERS", 16, 4);
const HISTORY = knob("MIXED_HISTORY", 30, 3);
const WARMUP_SECONDS = Math.min(3, SECONDS / 4);
/** Smartcar stops listening after 15 s; the smoke run waits longer, as it asserts answers, not their speed. */
const GIVE_UP_MS = SMOKE ? 60_000 : 15_000;

const SOC = "tractionbattery-stateofcharge";
const LOCATION = "location-preciselocation";
const ODOMETER = "odometer-traveleddistance";
/** Paris, Place de la Concorde; vehicles are spread over about ±50 km around it. */
const DEPOT = { latitude: 48.8656, longitude: 2.3212 };
const DAY_MS = 24 * 3600 * 1000;

const vehicleId = (index: number) => `mixed-vehicle-${String(index).padStart(4, "0")}`;
const userOf = (vehicle: number) => `mixed-user-${vehicle % USERS}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (counts: Map<string, number>, key: string, by = 1) => counts.set(key, (counts.get(key) ?? 0) + by);
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
/** The `p`th percentile, rounded; undefined when there is nothing to rank. */
const pct = (values: number[], p: number): number | undefined => (values.length === 0 ? undefined : round(percentile(sorted(values), p)));
/** A figure for the report: "-" when there is none. */
const shown = (value: number | undefined): string => (value === undefined ? "-" : String(value));

/** A vehicle's 10 signals of its `n`th delivery: charge, location, odometer, charging state, 5 others. */
function signalsOf(vehicle: number, n: number): BenchSignal[] {
  const soc = (vehicle * 37 + n * 3) % 101;
  const latitude = DEPOT.latitude + (((vehicle * 7901 + n * 13) % 1000) - 500) / 1100;
  const longitude = DEPOT.longitude + (((vehicle * 6007 + n * 17) % 1000) - 500) / 730;
  const charging = (vehicle + n) % 3 === 0;
  return [
    { code: SOC, value: soc },
    { code: LOCATION, value: 0, body: { latitude, longitude } },
    { code: ODOMETER, value: 0, body: { unit: "km", value: vehicle * 1000 + n * 7 } },
    { code: "charge-ischarging", value: 0, body: { value: charging } },
    { code: "charge-detailedchargingstatus", value: 0, body: { value: charging ? "CHARGING" : "NOT_CHARGING" } },
    ...Array.from({ length: 5 }, (_, i) => ({ code: `benchgroup-signal${i}`, value: (vehicle + n * (i + 1)) % 100 })),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Readers (the child process)

/** Answers that say a query costs too much: the ladder steps down to a cheaper variant. */
const REFUSED = new Set(["QUERY_TOO_COMPLEX", "QUERY_TOO_DEEP", "QUERY_TOO_LARGE", "BAD_USER_INPUT"]);

interface Rung {
  readonly label: string;
  readonly query: string;
}

interface Ladder {
  readonly name: string;
  readonly rungs: readonly Rung[];
  /** The rung readers send now. */
  at: number;
}

const farAway = { latitude: 0, longitude: 0, radiusMeters: 20_000_000 };
const literal = (value: object) => JSON.stringify(value).replace(/"(\w+)":/g, "$1:");

/** The attack as seen: `aliases` × `vehicles(first: 1, where: <conditions × near, 20,000 km>) { totalCount }`. */
function attack(aliases: number, conditions: number): Rung {
  const where = literal({ signals: Array.from({ length: conditions }, (_, i) => ({ code: `c${i}`, near: farAway })) });
  const fields = Array.from({ length: aliases }, (_, i) => `v${i}: vehicles(first: 1, where: ${where}) { totalCount }`);
  return { label: `${aliases} aliases x ${conditions} near`, query: `{ ${fields.join(" ")} }` };
}

/** A filter every vehicle passes (`conditions` on real signals, a quarter of them `near`), ordered by charge. */
function filterBySignals(first: number, conditions: number): Rung {
  const condition = (i: number) =>
    [{ code: LOCATION, near: farAway }, { code: SOC, gte: 0 }, { code: ODOMETER, gte: 0 }, { code: `benchgroup-signal${i % 5}`, gte: 0 }][i % 4];
  const where = literal({ signals: Array.from({ length: conditions }, (_, i) => condition(i)) });
  const query = `{ vehicles(first: ${first}, where: ${where}, orderBy: { signal: "${SOC}", direction: ASC }) { totalCount edges { node { id signals { code value } } } } }`;
  return { label: `first ${first}, ${conditions} conditions, by charge`, query };
}

/** A page of vehicles with every signal and `history` readings of each. */
function pageWithHistory(first: number, history: number): Rung {
  const query = `{ vehicles(first: ${first}) { edges { node { id signals { code value observedAt history(first: ${history}) { edges { node { value observedAt } } } } } } } }`;
  return { label: `first ${first}, history ${history}`, query };
}

/** A page of vehicles with an hourly `series` of their charge: `buckets` hours up to the next full hour after `now`. */
function series(first: number, buckets: number, now: number): Rung {
  const hour = 3600 * 1000;
  const to = Math.ceil(now / hour) * hour;
  const range = `from: "${new Date(to - buckets * hour).toISOString()}", to: "${new Date(to).toISOString()}"`;
  const query = `{ vehicles(first: ${first}) { edges { node { id signal(code: "${SOC}") { series(${range}, interval: "PT1H") { start count min max avg } } } } } }`;
  return { label: `first ${first}, ${buckets} hourly buckets`, query };
}

function ladders(now: number): { nobody: Ladder[]; admin: Ladder[] } {
  const ladder = (name: string, rungs: Rung[]): Ladder => ({ name, rungs, at: 0 });
  const attackRungs = () =>
    [
      [25, 20],
      [12, 20],
      [12, 10],
      [6, 10],
      [6, 5],
      [3, 5],
      [3, 2],
      [1, 2],
      [1, 1],
    ].map(([aliases, conditions]) => attack(aliases, conditions));
  return {
    nobody: [ladder("attack, user who owns nothing", attackRungs())],
    admin: [
      ladder("attack, admin", attackRungs()),
      ladder(
        "filter by signals, admin",
        [
          [100, 20],
          [100, 10],
          [50, 10],
          [20, 5],
          [20, 1],
          [1, 1],
        ].map(([first, conditions]) => filterBySignals(first, conditions)),
      ),
      ladder(
        "100-vehicle page + history, admin",
        [
          [100, 100],
          [100, 50],
          [100, 20],
          [100, 10],
          [100, 5],
          [100, 3],
          [100, 2],
          [100, 1],
          [50, 1],
          [20, 1],
        ].map(([first, history]) => pageWithHistory(first, history)),
      ),
      ladder(
        "series, admin",
        [
          [100, 1000],
          [50, 1000],
          [20, 1000],
          [10, 1000],
          [5, 1000],
          [1, 1000],
          [1, 100],
        ].map(([first, buckets]) => series(first, buckets, now)),
      ),
    ],
  };
}

/** How a reader's request ended: "ok", the first error's code (and message), "HTTP <status>" or "no answer". */
async function ask(baseUrl: string, jwt: string, query: string): Promise<{ outcome: string; message?: string }> {
  try {
    const response = await fetch(`${baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    let body: { data?: unknown; errors?: Array<{ message?: string; extensions?: { code?: string } }> } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    const error = body?.errors?.[0];
    if (error) return { outcome: error.extensions?.code ?? "error without code", message: error.message };
    if (response.status === 200 && body?.data) return { outcome: "ok" };
    return { outcome: `HTTP ${response.status}` };
  } catch {
    return { outcome: "no answer" };
  }
}

/** What the readers report to the bench. */
interface ReaderResults {
  /** Outcomes by ladder name, then by outcome. */
  readonly outcomes: Record<string, Record<string, number>>;
  /** Milliseconds of every answered "ok" request. */
  readonly okMs: number[];
  /** The variant each ladder ended on. */
  readonly rungs: Record<string, string>;
  /** Outcomes of the probe, by ladder and variant. */
  readonly probe?: Record<string, string[]>;
}

type ReaderCommand = { probe: true } | { start: true } | { stop: true };

/**
 * The readers' child process: "probe" walks each ladder down to a variant the server accepts (one
 * request at a time); "start" runs READERS loops until "stop", then reports.
 */
async function serveReaders(baseUrl: string, now: number): Promise<void> {
  const { nobody, admin } = ladders(now);
  const nobodyJwt = await userJwt("mixed-owns-nothing");
  const adminJwts = await Promise.all(Array.from({ length: READERS }, (_, i) => adminJwt(2 * 3600, `mixed-admin-${i}`)));
  const jwtOf = (ladder: Ladder, reader: number) => (nobody.includes(ladder) ? nobodyJwt : adminJwts[reader % adminJwts.length]);
  const outcomes = new Map<string, Map<string, number>>();
  let okMs: number[] = [];
  let running = false;
  let done: Promise<void> = Promise.resolve();
  const rungs = () => Object.fromEntries([...nobody, ...admin].map((ladder) => [ladder.name, ladder.rungs[ladder.at].label]));

  const send = (message: ReaderResults | { ready: true }) => process.send?.(message);
  process.once("disconnect", () => process.exit(0)); // the bench is gone: don't linger
  process.on("message", async (command: ReaderCommand) => {
    if ("probe" in command) {
      const probe: Record<string, string[]> = {};
      for (const [reader, ladder] of [...nobody, ...admin].entries()) {
        probe[ladder.name] = [];
        for (; ; ladder.at++) {
          const { outcome, message } = await ask(baseUrl, jwtOf(ladder, reader), ladder.rungs[ladder.at].query);
          probe[ladder.name].push(`${ladder.rungs[ladder.at].label}: ${outcome}${message ? ` (${message.slice(0, 120)})` : ""}`);
          if (!REFUSED.has(outcome) || ladder.at === ladder.rungs.length - 1) break;
        }
      }
      send({ outcomes: {}, okMs: [], rungs: rungs(), probe });
    } else if ("start" in command) {
      running = true;
      outcomes.clear();
      okMs = [];
      let turn = 0;
      done = loops(READERS, async () => {
        const reader = turn++;
        // Even readers are the user who owns nothing, odd ones admins going through their kinds in turn.
        const own = reader % 2 === 0 ? nobody : admin;
        for (let i = Math.floor(reader / 2); running; i++) {
          const ladder = own[i % own.length];
          const rung = ladder.at;
          const started = performance.now();
          // A request sent in the phase counts however long after it its answer comes.
          const { outcome } = await ask(baseUrl, jwtOf(ladder, reader), ladder.rungs[rung].query);
          if (outcome === "ok") okMs.push(performance.now() - started);
          const byOutcome = outcomes.get(ladder.name) ?? new Map<string, number>();
          count(byOutcome, outcome);
          outcomes.set(ladder.name, byOutcome);
          if (REFUSED.has(outcome) && ladder.at === rung && rung < ladder.rungs.length - 1) ladder.at = rung + 1;
          if (outcome === "RATE_LIMITED" && running) await sleep(1_000);
        }
        return false;
      });
    } else {
      running = false;
      await done;
      send({
        outcomes: Object.fromEntries([...outcomes].map(([name, byOutcome]) => [name, Object.fromEntries(byOutcome)])),
        okMs,
        rungs: rungs(),
      });
    }
  });
  send({ ready: true });
}

// ---------------------------------------------------------------------------------------------------
// The bench

interface Phase {
  readonly name: string;
  sent: number;
  /** Scheduled send to answer, ms, of every answered delivery. */
  readonly latencies: number[];
  /** Answers by status ("200", "503", ...), or "no answer: <why>" (given up after 15 s, connection reset ...). */
  readonly statuses: Map<string, number>;
  /** Subscriptions the server ended with an error meanwhile, by code. */
  readonly subscriptionErrors: Map<string, number>;
  /** Scheduled send to a subscriber's arrival, ms, of every arrival. */
  readonly fanOut: number[];
  expectedArrivals: number;
  /** Longest a send started after its schedule, ms (the load generator falling behind). */
  maxSendLagMs: number;
  readonly inFlight: Set<Promise<void>>;
  readers?: ReaderResults;
  cpu?: string;
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
}

const newPhase = (name: string): Phase => ({
  name,
  sent: 0,
  latencies: [],
  statuses: new Map(),
  subscriptionErrors: new Map(),
  fanOut: [],
  expectedArrivals: 0,
  maxSendLagMs: 0,
  inFlight: new Set(),
});

function readerReply(child: ChildProcess, command: ReaderCommand | undefined, has: "okMs" | "ready"): Promise<ReaderResults> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: ReaderResults) => {
      if (!(has in reply)) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(reply);
    };
    const onExit = () => reject(new Error("the readers' process exited"));
    child.on("message", onMessage);
    child.once("exit", onExit);
    if (command) child.send(command);
  });
}

async function main(): Promise<void> {
  const database = await scratchDatabase();
  const server = await startFleetgraph(database.url, "fleetgraph", {
    // The service's own per-token limits: the user who owns nothing keeps them (the attack was within the rate).
    GRAPHQL_RATE_LIMIT: undefined,
    GRAPHQL_CONCURRENCY_PER_TOKEN: undefined,
    // Admission by how busy the event loop is: the service's default unless the run names another.
    GRAPHQL_MAX_CONCURRENT: process.env.MIXED_MAX_CONCURRENT,
    // Every socket counts, subscribers' and deliveries' (open loop: as many as are waiting).
    HTTP_MAX_CONNECTIONS: String(SUBSCRIBERS + 10_000),
  });
  const base = server.url;

  // The fleet: HISTORY deliveries a vehicle, oldest first, over the last 30 days, through the webhook.
  const seedStarted = performance.now();
  const seedFrom = Date.now() - 30 * DAY_MS;
  const seeds = Array.from({ length: HISTORY * VEHICLES }, (_, i) => ({ vehicle: i % VEHICLES, n: Math.floor(i / VEHICLES) }));
  let nextSeed = 0;
  await loops(50, async () => {
    const seed = seeds[nextSeed++];
    if (!seed) return false;
    const at = seedFrom + Math.round(((seed.n + seed.vehicle / VEHICLES) * 30 * DAY_MS) / HISTORY);
    await postDelivery(base, vehicleStateBody(vehicleId(seed.vehicle), userOf(seed.vehicle), signalsOf(seed.vehicle, seed.n), at));
    return true;
  });
  const seedSeconds = round((performance.now() - seedStarted) / 1000);
  process.stderr.write(`seeded ${seeds.length} deliveries in ${seedSeconds} s\n`);

  // Subscribers: subscriber j is the owner of vehicle j % VEHICLES, watching its charge.
  const userJwts = new Map<string, string>();
  for (let u = 0; u < USERS; u++) userJwts.set(userOf(u), await userJwt(userOf(u)));
  const perVehicle = new Array<number>(VEHICLES).fill(0);
  const subscribers = Array.from({ length: SUBSCRIBERS }, (_, j) => {
    const vehicle = j % VEHICLES;
    perVehicle[vehicle]++;
    return {
      jwt: userJwts.get(userOf(vehicle))!,
      query: `subscription { signalUpdated(vehicleId: "${vehicleId(vehicle)}", codes: ["${SOC}"]) { vehicleId oemUpdatedAt } }`,
    };
  });
  // Each delivery's charge is stamped with its own instant: an arrival finds its delivery's phase and schedule.
  const scheduled = new Map<number, { phase: Phase; at: number }>();
  let current = newPhase("set-up");
  const clients: WsClient[] = [];
  onCleanup(() => Promise.all(clients.map((client) => client.dispose())).then(() => {}));
  const onArrival = (data: { signalUpdated: { oemUpdatedAt: string } }) => {
    const arrived = performance.now();
    const sent = scheduled.get(Date.parse(data.signalUpdated.oemUpdatedAt));
    if (sent) sent.phase.fanOut.push(arrived - sent.at);
  };
  // The server ending a subscription with an error (its subscriber gets nothing more): counted, by code.
  const onSubscriptionError = (error: unknown) => {
    const code = Array.isArray(error) ? (error as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code : undefined;
    count(current.subscriptionErrors, code ?? describeSocketError(error));
  };
  const connectStarted = performance.now();
  clients.push(...(await connectSubscribers(`${base.replace(/^http/, "ws")}/graphql`, subscribers, onArrival, onSubscriptionError)));
  process.stderr.write(`${SUBSCRIBERS} subscribers connected in ${round((performance.now() - connectStarted) / 1000)} s\n`);

  // Readers in their own process, started now so their start-up is not in a phase.
  const now = Date.now();
  const readers = fork(__filename, ["--readers", base, String(now)], {
    execArgv: ["-r", "ts-node/register"],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const readersExited = new Promise((resolve) => readers.once("exit", resolve));
  onCleanup(async () => {
    if (readers.exitCode === null && readers.signalCode === null) readers.kill("SIGTERM");
    await readersExited;
  });
  await readerReply(readers, undefined, "ready");

  let sequence = 0;
  let clock = Date.now();
  /** Sends one delivery (the next vehicle in turn, so one vehicle's deliveries are VEHICLES apart) scheduled at `at`. */
  const send = (phase: Phase, at: number) => {
    phase.maxSendLagMs = Math.max(phase.maxSendLagMs, performance.now() - at);
    const vehicle = sequence % VEHICLES;
    const n = HISTORY + Math.floor(sequence++ / VEHICLES);
    const observedAt = (clock = Math.max(clock + 1, Date.now()));
    scheduled.set(observedAt, { phase, at });
    phase.sent++;
    phase.expectedArrivals += perVehicle[vehicle];
    const body = vehicleStateBody(vehicleId(vehicle), userOf(vehicle), signalsOf(vehicle, n), observedAt);
    // One not answered counts too, with the time it waited (up to Smartcar's 15 s): the worst must not drop out.
    const request: Promise<void> = sendDelivery(base, body, GIVE_UP_MS).then((answer) => {
      phase.latencies.push(answer.at - at);
      count(phase.statuses, "status" in answer ? String(answer.status) : `no answer: ${answer.failure}`);
    });
    phase.inFlight.add(request);
    void request.finally(() => phase.inFlight.delete(request));
  };

  /** Deliveries at RATE a second for `seconds`, each on its schedule; resolves once every one is answered. */
  const deliver = async (phase: Phase, seconds: number) => {
    const started = performance.now();
    const total = Math.round(RATE * seconds);
    const due = (i: number) => started + (i * 1000) / RATE;
    for (let next = 0; next < total; ) {
      // At most 20 at once when behind, so answers and arrivals are still taken on time meanwhile.
      for (let burst = 0; burst < 20 && next < total && due(next) <= performance.now(); burst++) send(phase, due(next++));
      if (next < total) await sleep(Math.max(0, Math.min(5, due(next) - performance.now())));
    }
  };
  const settle = async (phase: Phase) => {
    while (phase.inFlight.size > 0) await Promise.all([...phase.inFlight]);
    await sleep(1_000); // the last arrivals
  };

  const run = async (phase: Phase, withReaders: boolean) => {
    const loop = monitorEventLoopDelay({ resolution: 10 });
    const cpuBefore = { server: server.cpuSeconds(), database: backendCpuSeconds(database.name), bench: process.cpuUsage(), readers: processCpuSeconds(readers.pid!) };
    current = phase;
    if (withReaders) readers.send({ start: true } satisfies ReaderCommand);
    loop.enable();
    await deliver(phase, SECONDS);
    loop.disable();
    if (withReaders) phase.readers = await readerReply(readers, { stop: true }, "okMs");
    await settle(phase);
    const bench = process.cpuUsage(cpuBefore.bench);
    const seconds = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? "?" : round(to - from));
    phase.cpu =
      `server ${seconds(cpuBefore.server, server.cpuSeconds())}, PostgreSQL ${round(backendCpuSince(cpuBefore.database, backendCpuSeconds(database.name)))}, ` +
      `bench ${round((bench.user + bench.system) / 1e6)}, readers ${seconds(cpuBefore.readers, processCpuSeconds(readers.pid!))} CPU s`;
    phase.loopDelayP99Ms = round(loop.percentile(99) / 1e6);
    phase.loopDelayMaxMs = round(loop.max / 1e6);
  };

  // Warm-up (connections, JIT), not counted; then quiet; then the probe; then loaded.
  const warmup = (current = newPhase("warm-up"));
  await deliver(warmup, WARMUP_SECONDS);
  await settle(warmup);
  const quiet = newPhase("quiet");
  await run(quiet, false);
  current = newPhase("probe");
  const probe = await readerReply(readers, { probe: true }, "okMs");
  for (const [ladder, tried] of Object.entries(probe.probe ?? {})) process.stderr.write(`probe ${ladder}: ${tried.join("; ")}\n`);
  const loaded = newPhase("loaded");
  await run(loaded, true);
  readers.kill("SIGTERM");

  printTable([quiet, loaded]);
  const p99 = (phase: Phase) => pct(phase.latencies, 99);
  const ratio = (p99(loaded) ?? NaN) / (p99(quiet) ?? NaN);
  const unavailable = loaded.statuses.get("503") ?? 0;
  process.stdout.write(
    `\ndelivery p99 loaded / quiet: ${ratio.toFixed(2)}x (goal: at most 2x); 503 answers while reading: ${unavailable} (goal: 0)\n` +
      `readers settled on: ${Object.entries(loaded.readers?.rungs ?? {})
        .map(([ladder, rung]) => `${ladder}: ${rung}`)
        .join("; ")}\n\n`,
  );

  if (answeredOf(quiet) !== quiet.sent || (quiet.statuses.get("200") ?? 0) !== quiet.sent) {
    process.stdout.write(
      `the quiet phase already missed answers or got errors: the machine (load average ${loadavg()[0].toFixed(1)}) or the service cannot take ${RATE} deliveries/s; ` +
        `the ratio says little (lower MIXED_RATE, or run on a quieter machine)\n\n`,
    );
  }

  if (SMOKE) {
    for (const phase of [quiet, loaded]) {
      const answered = answeredOf(phase);
      if (phase.sent === 0 || answered !== phase.sent) throw new Error(`${phase.name}: ${answered} of ${phase.sent} deliveries answered`);
    }
    if (!loaded.readers || Object.keys(loaded.readers.outcomes).length === 0) throw new Error("loaded: no reader got an answer");
  }

  const settings = `${VEHICLES} vehicles of ${USERS} users (${HISTORY} deliveries each seeded in ${seedSeconds} s), ${SUBSCRIBERS} subscribers, ${RATE} deliveries/s open loop, ${SECONDS} s a phase, ${READERS} readers${
    process.env.MIXED_MAX_CONCURRENT === undefined ? "" : `, GRAPHQL_MAX_CONCURRENT=${process.env.MIXED_MAX_CONCURRENT}`
  }`;
  report("mixed", settings, [
    {
      measured: "fleetgraph, deliveries while subscribers listen (quiet)",
      perSecond: Math.round(answeredOf(quiet) / SECONDS),
      p50ms: pct(quiet.latencies, 50),
      p99ms: p99(quiet),
      notes: phaseNotes(quiet),
    },
    {
      measured: "fleetgraph, deliveries while subscribers listen and readers run (loaded)",
      perSecond: Math.round(answeredOf(loaded) / SECONDS),
      p50ms: pct(loaded.latencies, 50),
      p99ms: p99(loaded),
      ratio: `${ratio.toFixed(2)}x quiet p99`,
      notes: `${phaseNotes(loaded)}; readers: ${readerSummary(loaded.readers)}, ok p50 ${shown(pct(loaded.readers?.okMs ?? [], 50))} ms`,
    },
  ]);
}

/** Deliveries that got an answer, whatever its status. */
const answeredOf = (phase: Phase) => [...phase.statuses].filter(([status]) => !status.startsWith("no answer")).reduce((sum, [, n]) => sum + n, 0);

const statusesOf = (phase: Phase) =>
  [...phase.statuses]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}: ${n}`)
    .join(", ");

const readerTotals = (results: ReaderResults | undefined) => {
  const totals = new Map<string, number>();
  for (const byOutcome of Object.values(results?.outcomes ?? {})) for (const [outcome, n] of Object.entries(byOutcome)) count(totals, outcome, n);
  return totals;
};

const readerSummary = (results: ReaderResults | undefined) =>
  results
    ? [...readerTotals(results)]
        .sort(([, a], [, b]) => b - a)
        .map(([outcome, n]) => `${outcome} ${n}`)
        .join(", ")
    : "none";

const phaseNotes = (phase: Phase) =>
  `answers ${statusesOf(phase)}; fan-out p50 ${shown(pct(phase.fanOut, 50))} ms, p99 ${shown(pct(phase.fanOut, 99))} ms (${phase.fanOut.length} of ${phase.expectedArrivals} arrivals); ` +
  `subscriptions ended by an error: ${subscriptionErrorsOf(phase)}; send lag max ${round(phase.maxSendLagMs)} ms, bench event-loop delay p99 ${phase.loopDelayP99Ms} ms; ${phase.cpu}`;

const subscriptionErrorsOf = (phase: Phase) =>
  phase.subscriptionErrors.size === 0
    ? "none"
    : [...phase.subscriptionErrors].map(([code, n]) => `${code} ${n}`).join(", ");

function printTable(phases: readonly Phase[]): void {
  const rows = phases.map((phase) => [
    phase.name,
    shown(pct(phase.latencies, 50)),
    shown(pct(phase.latencies, 99)),
    statusesOf(phase),
    `${shown(pct(phase.fanOut, 99))} (${phase.fanOut.length}/${phase.expectedArrivals})`,
    readerSummary(phase.readers),
    phase.readers ? shown(pct(phase.readers.okMs, 50)) : "",
  ]);
  const header = ["phase", "delivery p50 ms", "delivery p99 ms", "delivery answers", "fan-out p99 ms (arrived/expected)", "reader operations", "reader ok p50 ms"];
  process.stdout.write(`\n| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|\n${rows.map((row) => `| ${row.join(" | ")} |`).join("\n")}\n`);
  for (const phase of phases) {
    process.stdout.write(
      `\n${phase.name}: ${phase.sent} sent; fan-out p50 ${shown(pct(phase.fanOut, 50))} ms; subscriptions ended by an error: ${subscriptionErrorsOf(phase)}; ` +
        `send lag max ${round(phase.maxSendLagMs)} ms; bench event-loop delay p99 ${phase.loopDelayP99Ms} ms, max ${phase.loopDelayMaxMs} ms; ${phase.cpu}\n`,
    );
    for (const [ladder, byOutcome] of Object.entries(phase.readers?.outcomes ?? {})) {
      process.stdout.write(`  ${ladder} (${phase.readers!.rungs[ladder]}): ${JSON.stringify(byOutcome)}\n`);
    }
  }
}

if (process.argv[2] === "--readers") {
  serveReaders(process.argv[3], Number(process.argv[4])).catch((error: unknown) => {
    process.stderr.write(`readers: ${String(error)}\n`);
    process.exit(1);
  });
} else {
  exitOnError(main);
}
