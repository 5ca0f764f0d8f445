/**
 * Subscriptions:
 *   1. latency: with SUBSCRIBERS WebSocket clients (one socket and one `signalUpdated` each, all on
 *      the same vehicle, so every delivery fans out to all of them), the time from a webhook POST's
 *      200 to the event's arrival at each subscriber (p50, p99 over every arrival);
 *   2. memory: the server's RSS and heap with IDLE idle subscriptions (one socket each).
 *
 *   npm run bench:subscribe                                  # against DATABASE_URL (or local PostgreSQL)
 *   SUBSCRIBERS=1000 POSTS=200 IDLE=10000 npm run bench:subscribe
 *   BENCH_SMOKE=1 npm run bench:subscribe                    # seconds, for CI; appends nothing
 *   HEAP_SNAPSHOT=/tmp/heap IDLE=2000 npm run bench:subscribe # heap snapshots before and after the idle ones
 *                                                            # (then: npx ts-node bench/heap-summary.ts before after 2000)
 *
 * The server is the compiled service (built first when stale) in a child process (bench/compiled-server.cjs),
 * so clients and server do not share an event loop; it reports its own memory after a forced GC.
 * Creates a scratch database, drops it after.
 */
import "reflect-metadata";
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { Client as WsClient } from "graphql-ws";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureBuilt } = require("../scripts/build") as { ensureBuilt(root?: string, log?: (message: string) => void): void };
import {
  adminJwt,
  connectSubscribers,
  exitOnError,
  fleetgraphEnv,
  knob,
  onCleanup,
  percentile,
  postDelivery,
  report,
  round,
  scratchDatabase,
  vehicleStateBody,
} from "./support";

const SUBSCRIBERS = knob("SUBSCRIBERS", 1_000, 20);
const POSTS = knob("POSTS", 200, 10);
const IDLE = knob("IDLE", 10_000, 200);
const CODE = "tractionbattery-stateofcharge";

type ServerMessage = { url: string } | { memory: NodeJS.MemoryUsage };

function ask<T extends ServerMessage>(child: ChildProcess, message: string | undefined, has: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (reply: ServerMessage) => {
      if (!(has in reply)) return;
      child.off("message", onMessage);
      resolve(reply as T);
    };
    child.on("message", onMessage);
    if (message) child.send(message);
  });
}

const mib = (bytes: number) => round(bytes / 1024 / 1024);

type SignalEvent = { signalUpdated: { value: number } };

/** `count` subscribers of `query`, all with `jwt`. */
function connect(wsUrl: string, jwt: string, count: number, query: string, onEvent: (value: number) => void): Promise<WsClient[]> {
  return connectSubscribers<SignalEvent>(wsUrl, Array.from({ length: count }, () => ({ jwt, query })), (data) => onEvent(data.signalUpdated.value));
}

async function main(): Promise<void> {
  const database = await scratchDatabase();
  // The service as deployed, compiled: ts-node's TypeScript compiler alone holds about 47 MiB of RSS.
  ensureBuilt(undefined, (message: string) => process.stderr.write(`bench: ${message}\n`));
  const child = fork(path.join(__dirname, "compiled-server.cjs"), [], {
    // PROFILE=<dir> writes the server's CPU profile there (open it in Chrome DevTools).
    execArgv: ["--expose-gc", ...(process.env.PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE}`] : [])],
    env: fleetgraphEnv({
      DATABASE_URL: database.url,
      LOG_LEVEL: "warn",
      // Every client is a socket: the default cap (2,000) would refuse the idle ones.
      HTTP_MAX_CONNECTIONS: String(SUBSCRIBERS + IDLE + 100),
      ...(process.env.HEAP_SNAPSHOT ? { HEAP_SNAPSHOT: path.resolve(process.env.HEAP_SNAPSHOT) } : {}),
    }),
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  onCleanup(async () => {
    if (child.connected) child.send("stop");
    await exited;
  });
  const clients: WsClient[] = [];
  onCleanup(() => Promise.all(clients.map((client) => client.dispose())).then(() => {}));
  const started = ask<{ url: string }>(child, undefined, "url");
  const { url: base } = await Promise.race([started, exited.then(() => Promise.reject(new Error("server exited early")))]);
  const wsUrl = `${base.replace(/^http/, "ws")}/graphql`;
  const jwt = await adminJwt();
  const vehicleId = `bench-${randomUUID()}`;
  const post = (value: number): Promise<number> =>
    postDelivery(base, vehicleStateBody(vehicleId, "bench-user", [{ code: CODE, value }], Date.now()));

  // 1. Latency with SUBSCRIBERS connected, every one getting every event.
  const arrivals = new Map<number, number[]>();
  let waiting: { value: number; resolve: () => void } | undefined;
  const onEvent = (value: number) => {
    const times = arrivals.get(value) ?? [];
    times.push(performance.now());
    arrivals.set(value, times);
    if (waiting?.value === value && times.length === SUBSCRIBERS) waiting.resolve();
  };
  const query = `subscription { signalUpdated(vehicleId: "${vehicleId}", codes: ["${CODE}"]) { vehicleId code value body receivedAt } }`;
  const connectStarted = performance.now();
  clients.push(...(await connect(wsUrl, jwt, SUBSCRIBERS, query, onEvent)));
  const connectSeconds = (performance.now() - connectStarted) / 1000;

  const latencies: number[] = [];
  const warmup = 20;
  for (let value = 0; value < warmup + POSTS; value++) {
    const allArrived = new Promise<void>((resolve) => (waiting = { value, resolve }));
    const ok = await post(value);
    await allArrived;
    if (value >= warmup) for (const at of arrivals.get(value) ?? []) latencies.push(at - ok);
    arrivals.delete(value);
  }
  latencies.sort((a, b) => a - b);
  const latency = {
    subscribers: SUBSCRIBERS,
    posts: POSTS,
    arrivals: latencies.length,
    connectSeconds: round(connectSeconds),
    p50ms: round(percentile(latencies, 50)),
    p99ms: round(percentile(latencies, 99)),
    maxMs: round(latencies[latencies.length - 1]),
  };
  process.stdout.write(`${JSON.stringify({ latency }, null, 2)}\n`);
  await Promise.all(clients.splice(0).map((client) => client.dispose()));

  // 2. Memory with IDLE idle subscriptions (never an event: another vehicle).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = await ask<{ memory: NodeJS.MemoryUsage }>(child, "memory", "memory");
  const idleQuery = `subscription { signalUpdated(vehicleId: "idle-${randomUUID()}") { value } }`;
  clients.push(...(await connect(wsUrl, jwt, IDLE, idleQuery, () => {})));
  const after = await ask<{ memory: NodeJS.MemoryUsage }>(child, "memory", "memory");
  const memory = {
    idleSubscriptions: IDLE,
    rssMiB: { before: mib(before.memory.rss), after: mib(after.memory.rss) },
    heapUsedMiB: { before: mib(before.memory.heapUsed), after: mib(after.memory.heapUsed) },
    perSubscriptionKiB: {
      rss: round((after.memory.rss - before.memory.rss) / IDLE / 1024),
      heapUsed: round((after.memory.heapUsed - before.memory.heapUsed) / IDLE / 1024),
    },
  };
  process.stdout.write(`${JSON.stringify({ memory }, null, 2)}\n`);

  report("subscribe", `${SUBSCRIBERS} subscribers, ${POSTS} posts, ${IDLE} idle`, [
    { measured: `fan-out to ${SUBSCRIBERS} subscribers of one vehicle, POST's 200 to arrival`, p50ms: latency.p50ms, p99ms: latency.p99ms, notes: `max ${latency.maxMs} ms` },
    {
      measured: `${IDLE} idle subscriptions, server memory`,
      notes: `RSS ${memory.rssMiB.before} -> ${memory.rssMiB.after} MiB, heap ${memory.heapUsedMiB.before} -> ${memory.heapUsedMiB.after} MiB, ${memory.perSubscriptionKiB.heapUsed} KiB heap each`,
    },
  ]);
}

exitOnError(main);
