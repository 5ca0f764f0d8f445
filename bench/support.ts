/**
 * What every benchmark needs: knobs, a scratch database, servers in child processes, signed
 * deliveries, API tokens, graphql-ws subscribers, one load generator (`measure`, `compare`), percentiles, RESULTS.md.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { mintApiToken } from "../src/auth/token";
import { createClient, type Client as WsClient } from "graphql-ws";
import { Client } from "pg";
import WebSocket from "ws";
import { hmacHex } from "../src/webhooks/signature";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureBuilt } = require("../scripts/build") as { ensureBuilt: (root: string, log?: (message: string) => void) => void };

const ROOT = path.join(__dirname, "..");

/** `BENCH_SMOKE=1`: a few seconds, few clients, nothing appended to RESULTS.md (CI runs this). */
export const SMOKE = process.env.BENCH_SMOKE === "1";

/** A positive number from the environment, else the smoke or the full default. */
export function knob(name: string, full: number, smoke: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return SMOKE ? smoke : full;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`${name} must be a positive number`);
  return value;
}

/** Shared by every bench: concurrent clients, seconds per measurement, alternating rounds. */
export const LOAD = {
  clients: knob("BENCH_CLIENTS", 50, 4),
  seconds: knob("BENCH_SECONDS", 10, 2),
  warmupSeconds: knob("BENCH_WARMUP_SECONDS", 3, 0.5),
  rounds: knob("BENCH_ROUNDS", 3, 1),
};

// Everything a bench started, undone newest first when it ends, fails or is interrupted.
const cleanups: Array<() => Promise<void>> = [];
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    await cleanups
      .pop()!()
      .catch((error: unknown) => process.stderr.write(`cleanup: ${String(error)}\n`));
  }
}

export const MANAGEMENT_TOKEN = "bench-management-token";
export const JWT_SECRET = "bench-jwt-secret-that-is-at-least-32-bytes";
const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) process `pid` used so far, from /proc; undefined elsewhere or once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    // The fields after the command name (which may hold spaces) are counted from its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds so far of each PostgreSQL backend connected to `database` on this machine, by process id
 * (Linux: their process titles name the database); undefined elsewhere.
 */
export function backendCpuSeconds(database: string): Map<number, number> | undefined {
  if (!existsSync("/proc/self/stat")) return undefined;
  const backends = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!title.startsWith("postgres: ") || !title.split(" ").includes(database)) continue;
      const seconds = processCpuSeconds(Number(entry));
      if (seconds !== undefined) backends.set(Number(entry), seconds);
    } catch {
      // gone meanwhile
    }
  }
  return backends;
}

/** The CPU the backends used between two readings; one that ended meanwhile is missed (pools keep theirs). */
export function backendCpuSince(before: ReadonlyMap<number, number> | undefined, after: ReadonlyMap<number, number> | undefined): number {
  let total = 0;
  for (const [pid, seconds] of after ?? []) total += seconds - (before?.get(pid) ?? 0);
  return total;
}

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** A new database on the server of DATABASE_URL (default: the local PostgreSQL), dropped at cleanup. */
export async function scratchDatabase(): Promise<ScratchDatabase> {
  const name = `fg_bench_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  const drop = () => (dropped ??= admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  onCleanup(drop);
  return { name, url: url.toString(), drop };
}

export interface Server {
  readonly name: string;
  readonly url: string;
  /** Peak resident memory so far (Linux: VmHWM), in MiB; undefined elsewhere. */
  peakRssMiB(): number | undefined;
  /** CPU seconds the server process used so far (Linux: /proc), user and system; undefined elsewhere. */
  cpuSeconds(): number | undefined;
}

/**
 * Spawns a server (`args` run by node) with only `env` (plus PATH) and NODE_ENV=production, waits
 * until `readyUrl` finds its URL in the output, and stops it at cleanup.
 */
export async function startServer(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
  readyUrl: (output: string) => string | Promise<string | undefined> | undefined,
  timeoutMs = 60_000,
): Promise<Server> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", TS_NODE_TRANSPILE_ONLY: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${output}`);
    const url = await readyUrl(output);
    if (url) {
      // The load stays on this machine's loopback, whatever a server was told.
      if (new URL(url).hostname !== "127.0.0.1") throw new Error(`${name} listens on ${url}, not 127.0.0.1`);
      const status = `/proc/${child.pid}/status`;
      const peakRssMiB = () => {
        try {
          return round(Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(status, "utf8"))?.[1]) / 1024);
        } catch {
          return undefined;
        }
      };
      return { name, url, peakRssMiB, cpuSeconds: () => processCpuSeconds(child.pid!) };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} did not start within ${timeoutMs} ms:\n${output}`);
}

/**
 * The environment of a fleetgraph process under a bench: production mode on 127.0.0.1, port 0, the
 * bench's secrets, rate limits and turns per token off (one token from one address at thousands of
 * requests a second: the limits would measure themselves), then `overrides` (undefined: the service's default).
 */
export function fleetgraphEnv(overrides: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "production",
    TS_NODE_TRANSPILE_ONLY: "true",
    PORT: "0",
    HOST: "127.0.0.1",
    SMARTCAR_MANAGEMENT_TOKEN: MANAGEMENT_TOKEN,
    JWT_SECRET,
    GRAPHQL_RATE_LIMIT: "0",
    GRAPHQL_IP_RATE_LIMIT: "0",
    GRAPHQL_CONCURRENCY_PER_TOKEN: "0",
    // Admission by how busy the event loop is would hold a saturating reader back by design.
    GRAPHQL_MAX_CONCURRENT: "0",
    ...overrides,
  };
  // An override set to undefined leaves the variable out: the service's own default applies.
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * The real service, built (`dist/src/main.js`, what `npm start` runs), on 127.0.0.1, port 0.
 * Without `databaseUrl` it runs its embedded default (PGlite) in a temporary DATA_DIR. `overrides`
 * as fleetgraphEnv takes them.
 */
export function startFleetgraph(databaseUrl: string | undefined, name = "fleetgraph", overrides: Record<string, string | undefined> = {}): Promise<Server> {
  // The "fleetgraph listening" line (info) carries the URL.
  const env = fleetgraphEnv({ ...overrides, LOG_LEVEL: "info" });
  if (databaseUrl) {
    env.DATABASE_URL = databaseUrl;
  } else {
    const dataDir = mkdtempSync(path.join(tmpdir(), "fg-bench-"));
    onCleanup(async () => rmSync(dataDir, { recursive: true, force: true }));
    env.DATA_DIR = dataDir;
  }
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the service, written to <dir> when it stops (see RESULTS.md).
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", path.resolve(process.env.BENCH_CPU_PROF)] : [];
  // The compiled service, as `npm start` and the image run it (built here when the sources changed, so the
  // build's minute is not counted against the start-up timeout). BENCH_TS_NODE=1: from source, as `npm run dev`.
  if (process.env.BENCH_TS_NODE === "1") {
    return startServer(name, [...profile, "-r", "ts-node/register", "src/main.ts"], env, listeningUrl);
  }
  ensureBuilt(ROOT, (message) => process.stderr.write(`fleetgraph: ${message}\n`));
  return startServer(name, [...profile, "dist/src/main.js"], env, listeningUrl);
}

/** The URL in the "fleetgraph listening" line (info). */
function listeningUrl(output: string): string | undefined {
  const line = output.split("\n").find((l) => l.includes('"fleetgraph listening"'));
  return line && (JSON.parse(line) as { url: string }).url;
}

/** The hand-written baselines of bench/bare.ts (receiver and reader) over `databaseUrl`. */
export function startBare(databaseUrl: string): Promise<Server> {
  return startServer("bare", ["-r", "ts-node/register", "bench/bare.ts"], { DATABASE_URL: databaseUrl }, (output) => {
    return /^bare listening (\S+)$/m.exec(output)?.[1];
  });
}

/**
 * PostGraphile 4 (the CLI, as its users run it) over `databaseUrl`'s public schema. It has an
 * install of its own in bench/postgraphile (it needs graphql 15, the service 16: in one tree its
 * resolve-info helper gets the wrong copy and every nested connection fails), made on first use.
 */
export async function startPostGraphile(databaseUrl: string): Promise<Server> {
  const prefix = path.join(__dirname, "postgraphile");
  const cli = path.join(prefix, "node_modules", "postgraphile", "cli.js");
  if (!existsSync(cli)) {
    execFileSync("npm", ["ci", "--prefix", prefix, "--no-audit", "--no-fund", "--silent"], { stdio: ["ignore", "ignore", "inherit"] });
  }
  const port = await freePort();
  const args = [cli, "-c", databaseUrl, "-s", "public", "--disable-query-log", "-n", "127.0.0.1", "-p", String(port)];
  const url = `http://127.0.0.1:${port}`;
  return startServer("PostGraphile", args, {}, async () => {
    const answer = await graphql(url, "{ __typename }").catch(() => undefined);
    return answer ? url : undefined;
  });
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** POSTs a GraphQL query; resolves with `data`, rejects on any HTTP or GraphQL error. */
export async function graphql(baseUrl: string, query: string, variables?: object, jwt?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: unknown; data?: Record<string, unknown> };
  if (response.status !== 200 || body.errors || !body.data) throw new Error(`HTTP ${response.status} ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface BenchSignal {
  readonly code: string;
  readonly value: number;
  /** The signal's body; default `{ unit: "percent", value }`. */
  readonly body?: object;
}

/** A 4.0 LIVE VEHICLE_STATE body, shaped like the captured ones, every signal observed at `at`. */
export function vehicleStateBody(vehicleId: string, userId: string, signals: readonly BenchSignal[], at: number): string {
  return JSON.stringify({
    eventId: randomUUID(),
    eventType: "VEHICLE_STATE",
    data: {
      user: { id: userId },
      vehicle: { id: vehicleId, make: "TESLA", model: "Model 3", year: 2024 },
      signals: signals.map(({ code, value, body }) => ({
        code,
        name: code,
        group: code.split("-")[0],
        body: body ?? { unit: "percent", value },
        status: { value: "SUCCESS" },
        meta: { oemUpdatedAt: at, retrievedAt: at },
      })),
    },
    triggers: [{ type: "SIGNAL_UPDATED", signal: { code: signals[0]?.code } }],
    meta: { version: "4.0", deliveryId: randomUUID(), deliveredAt: at, webhookId: "bench", mode: "LIVE", signalCount: signals.length },
  });
}

/** POSTs a delivery signed with MANAGEMENT_TOKEN; resolves when the 200 arrived (performance.now()). */
export async function postDelivery(baseUrl: string, body: string): Promise<number> {
  const response = await fetch(`${baseUrl}/webhooks/smartcar`, {
    method: "POST",
    headers: { "content-type": "application/json", "sc-signature": hmacHex(MANAGEMENT_TOKEN, body) },
    body,
  });
  const answeredAt = performance.now();
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`webhook: HTTP ${response.status}`);
  return answeredAt;
}

/** How a delivery ended: its answer's status, or why none came; `at` is when (performance.now()). */
export type DeliveryAnswer = { readonly status: number; readonly at: number } | { readonly failure: string; readonly at: number };

// Keep-alive sockets for sendDelivery; as many as there are requests waiting, as Smartcar's senders would open.
const deliveryAgent = new http.Agent({ keepAlive: true });

/**
 * POSTs a delivery signed with MANAGEMENT_TOKEN, for open-loop senders: whatever the answer's status, and
 * given up after `timeoutMs` as Smartcar gives up after 15 s. node:http, not fetch: fetch costs the load
 * generator several times the CPU, and with thousands of requests waiting its pool scans every connection
 * on each request, so a slow server would stall the generator itself.
 */
export function sendDelivery(baseUrl: string, body: string, timeoutMs = 15_000): Promise<DeliveryAnswer> {
  return new Promise((resolve) => {
    const request = http.request(new URL("/webhooks/smartcar", baseUrl), {
      method: "POST",
      agent: deliveryAgent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "sc-signature": hmacHex(MANAGEMENT_TOKEN, body) },
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs);
    request.once("response", (response) => {
      clearTimeout(timer);
      const at = performance.now();
      response.resume();
      response.once("end", () => resolve({ status: response.statusCode ?? 0, at }));
      response.once("error", (error) => resolve({ failure: error.message, at }));
    });
    request.once("error", (error) => {
      clearTimeout(timer);
      resolve({ failure: error.message, at: performance.now() });
    });
    request.end(body);
  });
}

/**
 * An admin API token; it always carries `exp` (the service refuses tokens without one). A `subject`
 * gives it a rate-limit budget of its own (the service counts per token subject).
 */
export function adminJwt(ttlSeconds = 2 * 3600, subject?: string): Promise<string> {
  return mintApiToken(JWT_SECRET, { admin: true, sub: subject, ttlSeconds });
}

/** A token of Smartcar user `userId`: it sees that user's vehicles only. */
export function userJwt(userId: string, ttlSeconds = 2 * 3600): Promise<string> {
  return mintApiToken(JWT_SECRET, { admin: false, sub: userId, ttlSeconds });
}

/** What one graphql-ws subscriber sends: its token (in `connection_init`) and its subscription. */
export interface Subscriber {
  readonly jwt: string;
  readonly query: string;
}

/** A close event (code, reason) or errors, readable. */
export const describeSocketError = (error: unknown): string =>
  error && typeof error === "object" && "code" in error ? `closed ${String(error.code)} ${String((error as { reason?: unknown }).reason)}` : JSON.stringify(error);

/**
 * Connects one graphql-ws client (one socket) per subscriber, 200 at a time, each subscribing once;
 * `onData` gets every event's `data`, `onError` a subscription's error (default: printed). Resolves once
 * the server surely listens on each.
 */
export async function connectSubscribers<T>(
  wsUrl: string,
  subscribers: readonly Subscriber[],
  onData: (data: T) => void,
  onError: (error: unknown) => void = (error) => process.stderr.write(`subscription error: ${describeSocketError(error)}\n`),
): Promise<WsClient[]> {
  const clients: WsClient[] = [];
  const batch = 200;
  for (let start = 0; start < subscribers.length; start += batch) {
    const connected = await Promise.all(
      subscribers.slice(start, start + batch).map(async ({ jwt, query }) => {
        const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${jwt}` } });
        client.subscribe<T>(
          { query },
          {
            next: (result) => result.data && onData(result.data),
            error: onError,
            complete: () => {},
          },
        );
        // A query after the subscribe on the same socket: once answered, the subscription is registered.
        await new Promise<void>((resolve, reject) =>
          client.subscribe({ query: "{ __typename }" }, { next: () => {}, error: (error) => reject(new Error(describeSocketError(error))), complete: resolve }),
        );
        return client;
      }),
    );
    clients.push(...connected);
  }
  return clients;
}

/** Runs `worker` in `concurrency` loops, each until it returns false. */
export async function loops(concurrency: number, worker: () => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (await worker()) {
        // keep going
      }
    }),
  );
}

export interface Measurement {
  readonly seconds: number;
  readonly requests: number;
  readonly failures: number;
  readonly perSecond: number;
  readonly p50ms: number;
  readonly p99ms: number;
  /** The first failure's message, if any. */
  readonly error?: string;
  /** CPU ms per request, where the target says how to count it (see Target.cpu); Linux only. */
  readonly cpuMs?: CpuPerRequest;
}

/** CPU milliseconds per answered request: the server, its database backends, the load generator. */
export interface CpuPerRequest {
  readonly server: number;
  readonly database: number;
  readonly load: number;
}

/** Runs `request` (resolving with its latency in ms) in `concurrency` loops for `seconds`. */
export async function measure(concurrency: number, seconds: number, request: () => Promise<number>): Promise<Measurement> {
  const latencies: number[] = [];
  let failures = 0;
  let error: string | undefined;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await loops(concurrency, async () => {
    try {
      latencies.push(await request());
    } catch (failure) {
      failures++;
      error ??= String(failure);
    }
    return performance.now() < deadline;
  });
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    seconds: round(elapsed),
    requests: latencies.length,
    failures,
    perSecond: Math.round(latencies.length / elapsed),
    p50ms: round(percentile(latencies, 50)),
    p99ms: round(percentile(latencies, 99)),
    error,
  };
}

/** One contender of a comparison: `request` sends one request and resolves with its latency in ms. */
export interface Target {
  readonly name: string;
  readonly request: () => Promise<number>;
  /** CPU seconds so far of the target's server and of its database (both undefined when unknown). */
  readonly cpu?: () => { server: number | undefined; database: ReadonlyMap<number, number> | undefined };
}

/** `measure` with the CPU each side used during it, per request (when `target.cpu` can tell). */
async function measureTarget(target: Target, seconds: number): Promise<Measurement> {
  const before = target.cpu?.();
  const load = process.cpuUsage();
  const m = await measure(LOAD.clients, seconds, target.request);
  const after = target.cpu?.();
  if (!before || !after || before.server === undefined || after.server === undefined || m.requests === 0) return m;
  const perRequest = (seconds: number) => round2((1000 * seconds) / m.requests);
  const loadUsage = process.cpuUsage(load);
  return {
    ...m,
    cpuMs: {
      server: perRequest(after.server - before.server),
      database: perRequest(backendCpuSince(before.database, after.database)),
      load: perRequest((loadUsage.user + loadUsage.system) / 1e6),
    },
  };
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

/**
 * The same load against each target: a warm-up each, then `LOAD.rounds` rounds, the order
 * alternating so neither side always runs first on a machine whose load drifts. Returns the
 * median of each figure over the rounds, per target. Fails in smoke mode on any failed request.
 */
export async function compare(targets: readonly Target[]): Promise<Map<string, Measurement>> {
  const runs = new Map<string, Measurement[]>(targets.map((target) => [target.name, []]));
  for (const target of targets) await measure(LOAD.clients, LOAD.warmupSeconds, target.request);
  for (let round = 0; round < LOAD.rounds; round++) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      const m = await measureTarget(target, LOAD.seconds);
      const cpu = m.cpuMs ? `; CPU ms per request: server ${m.cpuMs.server}, PostgreSQL ${m.cpuMs.database}, load ${m.cpuMs.load}` : "";
      process.stderr.write(`round ${round + 1} ${target.name}: ${m.perSecond}/s p50 ${m.p50ms} ms p99 ${m.p99ms} ms, ${m.failures} failed${cpu}\n`);
      if (m.error && (SMOKE || m.requests === 0)) throw new Error(`${target.name}: ${m.error}`);
      runs.get(target.name)!.push(m);
    }
  }
  const medians = new Map<string, Measurement>();
  for (const [name, ms] of runs) {
    const median = (figure: (m: Measurement) => number) => percentile(ms.map(figure).sort((a, b) => a - b), 50);
    medians.set(name, {
      seconds: median((m) => m.seconds),
      requests: median((m) => m.requests),
      failures: ms.reduce((sum, m) => sum + m.failures, 0),
      perSecond: median((m) => m.perSecond),
      p50ms: median((m) => m.p50ms),
      p99ms: median((m) => m.p99ms),
      error: ms.find((m) => m.error)?.error,
      cpuMs: ms.every((m) => m.cpuMs)
        ? {
            server: median((m) => m.cpuMs!.server),
            database: median((m) => m.cpuMs!.database),
            load: median((m) => m.cpuMs!.load),
          }
        : undefined,
    });
  }
  return medians;
}

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export const round = (value: number): number => Math.round(value * 10) / 10;

/** `a / b` as "0.42x" for the report. */
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

export interface ResultRow {
  readonly measured: string;
  readonly perSecond?: number;
  readonly p50ms?: number;
  readonly p99ms?: number;
  readonly ratio?: string;
  readonly notes?: string;
}

const RESULTS = path.join(__dirname, "RESULTS.md");
const TABLE_HEADER = "| date (UTC) | commit | bench | measured | /s | p50 ms | p99 ms | ratio | notes |";

/**
 * Prints `rows` and, unless in smoke mode, appends them (dated, with the commit) to the table that
 * ends bench/RESULTS.md. BENCH_NOTE adds a note to every row (for example what else ran).
 */
export function report(bench: string, settings: string, rows: readonly ResultRow[]): void {
  const cell = (value: number | string | undefined) => (value === undefined ? "" : String(value));
  const notes = [settings, `load avg ${loadavg()[0].toFixed(1)} at start`, process.env.BENCH_NOTE].filter(Boolean).join("; ");
  const lines = rows.map((row) =>
    [
      new Date().toISOString().slice(0, 16).replace("T", " "),
      commit(),
      bench,
      row.measured,
      cell(row.perSecond),
      cell(row.p50ms),
      cell(row.p99ms),
      cell(row.ratio),
      [row.notes, notes].filter(Boolean).join("; "),
    ].join(" | "),
  );
  process.stdout.write(`${TABLE_HEADER}\n${lines.map((line) => `| ${line} |`).join("\n")}\n`);
  if (SMOKE) return;
  const text = readFileSync(RESULTS, "utf8");
  // The table must be the file's last section, else rows would land under someone else's heading.
  const header = text.slice(text.lastIndexOf("\n## ")).includes(TABLE_HEADER)
    ? ""
    : `\n## Same-run comparisons\n\n${TABLE_HEADER}\n|---|---|---|---|---|---|---|---|---|\n`;
  appendFileSync(RESULTS, header + lines.map((line) => `| ${line} |\n`).join(""));
}

/** The short commit hash, "+" when tracked files (other than RESULTS.md) differ from it. */
function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md") !== "";
    return git("rev-parse", "--short", "HEAD") + (dirty ? "+" : "");
  } catch {
    return "unknown";
  }
}

/** Runs a bench; on failure or interrupt too, stops its servers and drops its databases first. */
export function exitOnError(run: () => Promise<void>): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  }
  run()
    .then(cleanUp, async (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      await cleanUp();
      process.exit(1);
    })
    .then(() => process.exit(0));
}
