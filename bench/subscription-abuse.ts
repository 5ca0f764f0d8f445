/**
 * The two subscription abuse scenarios, run by hand:
 *   1. many: one socket sends MANY `signalUpdated` subscribes on one vehicle, 400 a second (under the
 *      socket's message budget); the server's memory with them open, and the time from one webhook
 *      POST's 200 until every accepted subscription got it. Then the same MANY at once (burst): what
 *      the socket gets;
 *   2. replays: REPLAY_ROWS values stored for one vehicle, then REPLAYS sockets each subscribe with
 *      `since` before all of them at once; the time until every replay ended (all rows, or an error),
 *      the server's peak RSS meanwhile, and webhook latency while they run.
 *
 *   npx ts-node bench/subscription-abuse.ts                     # against DATABASE_URL (or local PostgreSQL)
 *   MANY=10000 REPLAYS=30 REPLAY_ROWS=10000 npx ts-node bench/subscription-abuse.ts
 *
 * The server is this file in a child process (`--server`), as in bench/subscriptions.ts.
 */
import "reflect-metadata";
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createClient, type Client as WsClient } from "graphql-ws";
import WebSocket from "ws";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { adminJwt, exitOnError, fleetgraphEnv, percentile, postDelivery, round, scratchDatabase, vehicleStateBody } from "./support";

const MANY = Number(process.env.MANY ?? 10_000);
const REPLAYS = Number(process.env.REPLAYS ?? 30);
const REPLAY_ROWS = Number(process.env.REPLAY_ROWS ?? 10_000);
const CODE = "tractionbattery-stateofcharge";

type ServerMessage = { url: string } | { memory: NodeJS.MemoryUsage; peakRss: number };

async function serve(): Promise<void> {
  const app = createApp(loadConfig());
  await app.start();
  let peakRss = 0;
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20).unref();
  process.send?.({ url: app.url } satisfies ServerMessage);
  process.on("message", async (message: string) => {
    if (message === "memory") {
      global.gc?.();
      global.gc?.();
      const memory = process.memoryUsage();
      process.send?.({ memory, peakRss: Math.max(peakRss, memory.rss) } satisfies ServerMessage);
      peakRss = memory.rss;
    } else if (message === "stop") {
      await app.stop();
      process.exit(0);
    }
  });
}

function memoryOf(child: ChildProcess): Promise<{ memory: NodeJS.MemoryUsage; peakRss: number }> {
  return new Promise((resolve) => {
    const onMessage = (reply: ServerMessage) => {
      if (!("memory" in reply)) return;
      child.off("message", onMessage);
      resolve(reply);
    };
    child.on("message", onMessage);
    child.send("memory");
  });
}

const mib = (bytes: number) => round(bytes / 1024 / 1024);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function connect(wsUrl: string, jwt: string, onClosed: (code: number) => void = () => {}): WsClient {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${jwt}` },
    on: { closed: (event) => onClosed((event as { code: number }).code) },
  });
}

/** Resolves once every message sent before it on this socket was handled (a query's round trip). */
const roundTrip = (client: WsClient) =>
  new Promise<void>((resolve, reject) => client.subscribe({ query: "{ __typename }" }, { next: () => {}, error: reject, complete: resolve }));

async function manyOnOneSocket(child: ChildProcess, base: string, wsUrl: string, jwt: string): Promise<unknown> {
  const vehicleId = `bench-${randomUUID()}`;
  const before = await memoryOf(child);
  const client = connect(wsUrl, jwt);
  let received = 0;
  let refused = 0;
  let allArrived: (() => void) | undefined;
  let accepted = MANY;
  const refusals = new Map<string, number>();
  const query = `subscription { signalUpdated(vehicleId: "${vehicleId}", codes: ["${CODE}"]) { vehicleId code value body receivedAt } }`;
  const subscribeStarted = performance.now();
  for (let i = 0; i < MANY; i++) {
    if (i > 0 && i % 400 === 0) await pause(1_000);
    client.subscribe(
      { query },
      {
        next: () => {
          received++;
          if (received === accepted) allArrived?.();
        },
        error: (error) => {
          refused++;
          const code = String((error as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code ?? "no code");
          refusals.set(code, (refusals.get(code) ?? 0) + 1);
        },
        complete: () => {},
      },
    );
  }
  await roundTrip(client);
  await pause(200);
  const subscribeSeconds = (performance.now() - subscribeStarted) / 1000;
  accepted = MANY - refused;
  const open = await memoryOf(child);
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));
  const posted = await postDelivery(base, vehicleStateBody(vehicleId, "bench-user", [{ code: CODE, value: 1 }], Date.now()));
  await arrived;
  const fanOutMs = performance.now() - posted;
  await client.dispose();
  return {
    subscribes: MANY,
    accepted,
    refused: Object.fromEntries(refusals),
    subscribeSeconds: round(subscribeSeconds),
    fanOutMs: round(fanOutMs),
    rssMiB: { before: mib(before.memory.rss), open: mib(open.memory.rss), peak: mib(open.peakRss) },
    heapUsedMiB: { before: mib(before.memory.heapUsed), open: mib(open.memory.heapUsed) },
  };
}

/** MANY subscribes sent at once on one socket: how many got an answer before the socket closed, and its code. */
async function burstOnOneSocket(wsUrl: string, jwt: string): Promise<unknown> {
  let closeCode: number | undefined;
  const closed = new Promise<void>((resolve) => {
    const client = connect(wsUrl, jwt, (code) => {
      closeCode = code;
      resolve();
    });
    const query = `subscription { signalUpdated(vehicleId: "bench-${randomUUID()}") { value } }`;
    for (let i = 0; i < MANY; i++) client.subscribe({ query }, { next: () => {}, error: () => answered++, complete: () => {} });
    // No close within 30 s: report the socket as still open.
    setTimeout(() => void client.dispose(), 30_000).unref();
  });
  let answered = 0;
  const started = performance.now();
  await closed;
  return { subscribes: MANY, closeCode, errorsBeforeClose: answered, secondsToClose: round((performance.now() - started) / 1000) };
}

async function concurrentReplays(child: ChildProcess, base: string, wsUrl: string, jwt: string): Promise<unknown> {
  const vehicleId = `bench-${randomUUID()}`;
  const since = new Date(Date.now() - 1_000).toISOString();
  // 50 signals a delivery, each delivery newer than the last, so every reading becomes latest.
  const perDelivery = 50;
  const start = Date.now() - REPLAY_ROWS * 1_000;
  for (let i = 0; i < REPLAY_ROWS / perDelivery; i++) {
    const signals = Array.from({ length: perDelivery }, (_, code) => ({ code: `bench-signal${code}`, value: i }));
    await postDelivery(base, vehicleStateBody(vehicleId, "bench-user", signals, start + i * 1_000));
  }
  await pause(500);
  const before = await memoryOf(child);
  const clients = Array.from({ length: REPLAYS }, () => connect(wsUrl, jwt));
  const query = `subscription ($since: DateTime) { signalUpdated(vehicleId: "${vehicleId}", since: $since) { vehicleId code value body receivedAt } }`;
  const started = performance.now();
  const durations: number[] = [];
  const outcomes = new Map<string, number>();
  let rows = 0;
  const replays = clients.map(
    (client) =>
      new Promise<void>((resolve) => {
        let count = 0;
        const done = (outcome: string) => {
          durations.push(performance.now() - started);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          rows += count;
          resolve();
        };
        client.subscribe(
          { query, variables: { since } },
          {
            next: () => {
              if (++count === REPLAY_ROWS) done("all rows");
            },
            error: (error) => done(String((error as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code ?? JSON.stringify(error))),
            complete: () => {},
          },
        );
      }),
  );
  // Webhooks while the replays run: does ingestion still get database connections?
  const webhookMs: number[] = [];
  let replaying = true;
  const ingestion = (async () => {
    const other = `bench-${randomUUID()}`;
    for (let i = 0; replaying; i++) {
      const sent = performance.now();
      await postDelivery(base, vehicleStateBody(other, "bench-user", [{ code: CODE, value: i }], Date.now()));
      webhookMs.push(performance.now() - sent);
    }
  })();
  await Promise.all(replays);
  replaying = false;
  await ingestion;
  const seconds = (performance.now() - started) / 1000;
  const after = await memoryOf(child);
  await Promise.all(clients.map((client) => client.dispose()));
  durations.sort((a, b) => a - b);
  webhookMs.sort((a, b) => a - b);
  return {
    replays: REPLAYS,
    storedRows: REPLAY_ROWS,
    outcomes: Object.fromEntries(outcomes),
    rowsSent: rows,
    seconds: round(seconds),
    slowestReplayMs: round(durations[durations.length - 1]),
    rssMiB: { before: mib(before.memory.rss), peak: mib(after.peakRss) },
    webhooksDuringReplays: { count: webhookMs.length, p50ms: round(percentile(webhookMs, 50)), maxMs: round(webhookMs[webhookMs.length - 1]) },
  };
}

async function main(): Promise<void> {
  const database = await scratchDatabase();
  const child = fork(__filename, ["--server"], {
    execArgv: ["-r", "ts-node/register", "--expose-gc"],
    env: fleetgraphEnv({ DATABASE_URL: database.url, LOG_LEVEL: "warn" }),
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    const base = await new Promise<string>((resolve) => child.once("message", (reply: { url: string }) => resolve(reply.url)));
    const wsUrl = `${base.replace(/^http/, "ws")}/graphql`;
    const jwt = await adminJwt();
    process.stdout.write(`${JSON.stringify({ many: await manyOnOneSocket(child, base, wsUrl, jwt) }, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify({ burst: await burstOnOneSocket(wsUrl, jwt) }, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify({ replays: await concurrentReplays(child, base, wsUrl, jwt) }, null, 2)}\n`);
  } finally {
    child.send("stop");
    await new Promise((resolve) => child.once("exit", resolve));
    await database.drop();
  }
}

// The server child lives until the bench sends "stop"; exitOnError would end it as soon as serve() returns.
if (process.argv.includes("--server")) {
  serve().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
} else {
  exitOnError(main);
}
