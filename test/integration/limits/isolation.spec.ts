import { randomUUID } from "node:crypto";
import type { GraphQLFormattedError } from "graphql";
import { Client } from "pg";
import { gql, signToken, type GraphQLResponse } from "../../helpers/graphql";
import { postDelivery, vehicleState, type PostResult } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";
import { connectLive } from "../../helpers/ws-client";
import { monthPartition } from "../../../src/signals/reading-partitions";

const SOC = "tractionbattery-stateofcharge";
const LOCATION = "location-preciselocation";

/** A delivery of every signal the expensive queries read, for one vehicle of one user. */
function fleetDelivery(vehicle: number, users: number) {
  const signals = [
    { code: SOC, body: { value: 20 + (vehicle % 70), unit: "percent" } },
    { code: LOCATION, body: { latitude: (vehicle % 10) - 5, longitude: (vehicle % 20) - 10 } },
    ...Array.from({ length: 18 }, (_, i) => ({ code: `c${i}`, body: { value: vehicle + i } })),
  ];
  return vehicleState({ vehicleId: `veh-${vehicle}`, userId: `user-${vehicle % users}`, signals });
}

const near = (code: string) => `{ code: "${code}", near: { latitude: 0, longitude: 0, radiusMeters: 20000000 } }`;
const TWENTY_NEAR = `[${[LOCATION, ...Array.from({ length: 19 }, (_, i) => `c${i}`)].map(near).join(", ")}]`;

/** The attack: 25 aliases of 20 huge-radius conditions, under every per-field limit. */
const ATTACK = `{ ${Array.from({ length: 25 }, (_, a) => `v${a}: vehicles(first: 1, where: { signals: ${TWENTY_NEAR} }) { totalCount }`).join(" ")} }`;

/** The most expensive kinds of query the limits accept: each is answered, none refused. */
const EXPENSIVE = [
  `{ vehicles(first: 100, where: { signals: ${TWENTY_NEAR} }) { totalCount edges { node { id } } } }`,
  `{ vehicles(first: 100, orderBy: { signal: "${SOC}", direction: DESC }) { totalCount edges { node { id signals { code value } } } } }`,
  `{ vehicles(first: 20) { edges { node { id signal(code: "${SOC}") { history(first: 100) { totalCount edges { node { value } } } series(from: "2016-01-01T00:00:00Z", interval: "P30D") { count avg } } } } } }`,
  `{ fleetSummary { vehicles failingSignals { code count } openIssuesByType { type count } } vehicles(first: 50, where: { signals: [{ code: "${SOC}", gt: 10 }] }) { totalCount } }`,
];

/** Posts `count` deliveries one after another, each for one of the fleet's vehicles: the answers. */
async function deliver(t: TestApp, count: number, users: number): Promise<PostResult[]> {
  const answers: PostResult[] = [];
  for (let i = 0; i < count; i++) answers.push(await postDelivery(t.url, fleetDelivery(i % 33, users)));
  return answers;
}

/** Runs `query` in `loops` concurrent loops until `stop()` says so: the answers. */
function flood(t: TestApp, token: string, queries: readonly string[], loops: number): { stop(): Promise<Array<GraphQLResponse<unknown>>> } {
  let running = true;
  const answers: Array<GraphQLResponse<unknown>> = [];
  const loop = async (n: number) => {
    for (let i = n; running; i++) answers.push(await gql(t.url, queries[i % queries.length], { token }));
  };
  const done = Promise.all(Array.from({ length: loops }, (_, n) => loop(n)));
  return {
    async stop() {
      running = false;
      await done;
      return answers;
    },
  };
}

/**
 * Holds an ACCESS EXCLUSIVE lock on next month's history partition: every history read waits for it
 * (history is read by observation time, so it probes every month), while ingestion, which writes
 * this month's partition only, does not.
 */
async function blockHistoryReads(t: TestApp): Promise<{ release(): Promise<void> }> {
  const client = new Client({ connectionString: t.database.url });
  await client.connect();
  const next = new Date();
  next.setUTCMonth(next.getUTCMonth() + 1, 1);
  await client.query("BEGIN");
  await client.query(`LOCK TABLE ${monthPartition(next).name} IN ACCESS EXCLUSIVE MODE`);
  return {
    async release() {
      await client.query("ROLLBACK");
      await client.end();
    },
  };
}


const HISTORY = `{ vehicle(id: "veh-1") { signal(code: "${SOC}") { history { edges { node { value } } } } } }`;

/** The one-session embedded database has one connection: no test client can hold a lock beside the app. */
const onServer = process.env.DATABASE_URL ? it : it.skip;

const codesOf = (answers: Array<GraphQLResponse<unknown>>) => new Set(answers.flatMap((answer) => (answer.errors ?? []).map((error) => error.extensions?.code)));

describe("ingestion under the most expensive reads", () => {
  it("answers every delivery 200 while a user who owns nothing and an admin flood the most expensive queries the limits accept", async () => {
    // Production's limits (rate, turns per token, admission); a short apply deadline, so that any wait for the database shows.
    const t = await startTestApp({
      GRAPHQL_RATE_LIMIT: undefined,
      GRAPHQL_CONCURRENCY_PER_TOKEN: undefined,
      GRAPHQL_MAX_CONCURRENT: undefined,
      WEBHOOK_APPLY_TIMEOUT_MS: "3000",
    });
    for (let v = 0; v < 33; v++) expect((await postDelivery(t.url, fleetDelivery(v, 5))).status).toBe(200);

    const nobody = await signToken({ sub: `user-nobody-${randomUUID()}` });
    const admin = await signToken({ role: "admin" });
    const readers = [flood(t, nobody, [ATTACK, ...EXPENSIVE], 8), flood(t, admin, EXPENSIVE, 8)];
    await new Promise((resolve) => setTimeout(resolve, 500));
    const deliveries = await deliver(t, 10, 5);
    const [byNobody, byAdmin] = await Promise.all(readers.map((reader) => reader.stop()));

    expect(deliveries.filter((answer) => answer.status !== 200).map((answer) => answer.status)).toEqual([]);
    // The readers were served too: what the limits accept is answered, the rest refused as such.
    for (const answers of [byNobody, byAdmin]) expect(answers.filter((answer) => answer.status === 200 && !answer.errors).length).toBeGreaterThan(0);
    expect([...codesOf(byAdmin)].filter((code) => code !== "RATE_LIMITED")).toEqual([]);
    expect([...codesOf(byNobody)].filter((code) => code !== "RATE_LIMITED" && code !== "QUERY_TOO_COMPLEX")).toEqual([]);
    // The attack itself is refused before any SQL: 500 conditions in one operation.
    const attack = await gql(t.url, ATTACK, { token: nobody });
    expect(attack.status).toBe(400);
    expect(attack.errors?.[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", conditions: 500 });
  }, 60_000);
});

describe("ingestion's own connections", () => {
  // A one-session database (the embedded PGlite) has a single connection and no statement_timeout to share out.

  onServer("keeps applying deliveries while readers hold every GraphQL connection, and cancels their statements at GRAPHQL_STATEMENT_TIMEOUT_MS", async () => {
    const t = await startTestApp({ DATABASE_POOL_SIZE: "3", GRAPHQL_STATEMENT_TIMEOUT_MS: "4000", WEBHOOK_APPLY_TIMEOUT_MS: "1500" });
    expect((await postDelivery(t.url, fleetDelivery(1, 1))).status).toBe(200);
    const token = await signToken({ role: "admin" });
    const lock = await blockHistoryReads(t);
    try {
      const started = Date.now();
      const readers = Array.from({ length: 6 }, () => gql(t.url, HISTORY, { token }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const deliveries = await Promise.all(Array.from({ length: 5 }, (_, v) => postDelivery(t.url, fleetDelivery(v, 1))));
      expect(deliveries.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      // A subscriber still hears them: the change bus has its connections too.
      const answers = await Promise.all(readers);
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.errors?.[0]).toMatchObject({ extensions: { code: "QUERY_TIMEOUT" }, message: expect.stringMatching(/took longer than the server allows/) });
      }
      expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    } finally {
      await lock.release();
    }
  }, 30_000);
});

describe("readers slowed, never ingestion, while the process is busy", () => {
  /** The `fleetgraph_graphql_operations` gauge of one state (or the admission pause, in seconds), from /metrics. */
  async function admission(t: TestApp, state: "limit" | "running" | "waiting" | "pause"): Promise<number> {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const line = state === "pause" ? "fleetgraph_graphql_admission_pause_seconds" : `fleetgraph_graphql_operations\\{state="${state}"\\}`;
    return Number(new RegExp(`^${line} (\\S+)$`, "m").exec(text)?.[1]);
  }
  const until = async (check: () => Promise<boolean>) => {
    for (let tries = 0; !(await check()); tries++) {
      if (tries > 100) throw new Error("condition not met within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it("lets fewer GraphQL operations run at once while the event loop is busy, then spaces their starts, and lets more again once it is idle", async () => {
    const t = await startTestApp({ GRAPHQL_MAX_CONCURRENT: "8" });
    const token = await signToken({ role: "admin" });
    // Idle (start-up kept it busy a moment): as many as configured.
    await until(async () => (await admission(t, "limit")) === 8);
    // Something else on the event loop (here: this test) keeps it nine tenths busy.
    const hog = setInterval(() => {
      const end = Date.now() + 90;
      while (Date.now() < end);
    }, 100);
    try {
      await until(async () => (await admission(t, "limit")) === 1 && (await admission(t, "pause")) > 0);
      // Slowed, not stopped; and deliveries do not wait for admission at all.
      expect((await gql(t.url, `{ vehicles { totalCount } }`, { token })).status).toBe(200);
      expect((await postDelivery(t.url, fleetDelivery(1, 1))).status).toBe(200);
    } finally {
      clearInterval(hog);
    }
    await until(async () => (await admission(t, "limit")) === 8 && (await admission(t, "pause")) === 0);
  }, 30_000);
});

describe("the same limits on every transport", () => {
  const query = `query { vehicles(first: 1) { totalCount } }`;

  type Result = { data?: unknown; errors?: readonly GraphQLFormattedError[] };

  /** Sends `query` `count` times at once over one socket: each one's result, or the errors it was refused with. */
  async function overWebSocket(t: TestApp, token: string, count: number, text = query): Promise<Result[]> {
    const live = connectLive(t.wsUrl, { token });
    await live.connected;
    const one = () =>
      new Promise<Result>((resolve) => {
        let result: Result = {};
        live.client.subscribe(
          { query: text },
          {
            next: (value) => (result = value as Result),
            error: (errors) => resolve({ errors: errors as GraphQLFormattedError[] }),
            complete: () => resolve(result),
          },
        );
      });
    try {
      return await Promise.all(Array.from({ length: count }, one));
    } finally {
      await live.dispose();
    }
  }

  it("counts queries over WebSocket against the token's per-minute budget, as over HTTP", async () => {
    const t = await startTestApp({ GRAPHQL_RATE_LIMIT: "5" });
    const token = await signToken({ sub: `user-${randomUUID()}` });
    for (let i = 0; i < 3; i++) expect((await gql(t.url, query, { token })).status).toBe(200);
    const overSocket = await overWebSocket(t, token, 6);
    expect(overSocket.filter((result) => result.data).length).toBe(2);
    expect(overSocket.filter((result) => result.errors?.[0].extensions?.code === "RATE_LIMITED").length).toBe(4);
    // Spent over the socket: HTTP is refused too.
    expect((await gql(t.url, query, { token })).status).toBe(429);
    expect((await gql(t.url, query, { token: await signToken({ sub: `user-${randomUUID()}` }) })).status).toBe(200);
  });

  it("counts queries over WebSocket against the client IP's budget", async () => {
    const t = await startTestApp({ GRAPHQL_IP_RATE_LIMIT: "4" });
    const results = await overWebSocket(t, await signToken({ sub: `user-${randomUUID()}` }), 6);
    expect(results.filter((result) => result.errors?.[0].extensions?.code === "RATE_LIMITED").length).toBe(2);
  });

  onServer("lets one token run only its share of operations at once, over HTTP and WebSocket together; the rest wait or are refused", async () => {
    const t = await startTestApp({ GRAPHQL_CONCURRENCY_PER_TOKEN: "1" });
    expect((await postDelivery(t.url, fleetDelivery(1, 1))).status).toBe(200);
    const token = await signToken({ sub: "user-0" });
    const lock = await blockHistoryReads(t);
    // One runs (held by the lock), eight wait (eight times the share): the next is refused, whichever transport.
    const http = Array.from({ length: 9 }, () => gql(t.url, HISTORY, { token }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const socket = await overWebSocket(t, token, 2, HISTORY);
      expect(socket.map((result) => result.errors?.[0].extensions?.code)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
      const refused = await gql(t.url, HISTORY, { token });
      expect(refused.status).toBe(429);
      expect(refused.errors?.[0]).toMatchObject({ extensions: { code: "RATE_LIMITED" }, message: expect.stringMatching(/too many operations at once/) });
      // Another token has its own share.
      expect((await gql(t.url, `{ vehicles { totalCount } }`, { token: await signToken({ sub: "user-1" }) })).status).toBe(200);
    } finally {
      await lock.release();
    }
    // Those that waited are all answered, in turn.
    const answers = await Promise.all(http);
    expect(answers.map((answer) => answer.errors ?? answer.status)).toEqual(Array(9).fill(200));
  });
});
