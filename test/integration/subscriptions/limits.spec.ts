import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { gql } from "../../helpers/graphql";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTcpProxy } from "../../helpers/tcp-proxy";
import { startTestApp, testDatabase, TEST_JWT_SECRET, type TestApp } from "../../helpers/test-app";
import { closedWithin, connectLive, signToken, type LiveClient } from "../../helpers/ws-client";

const SOC = "tractionbattery-stateofcharge";
const SIGNAL_UPDATED = `subscription ($vehicleId: ID, $since: DateTime) {
  signalUpdated(vehicleId: $vehicleId, since: $since) { vehicleId code value receivedAt }
}`;

interface SignalEvent {
  signalUpdated: { vehicleId: string; code: string; value: number; receivedAt: string };
}

const T0 = Date.parse("2026-11-01T10:00:00Z");
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const codeOf = (errors: ReadonlyArray<{ extensions?: Record<string, unknown> }>) => errors[0]?.extensions?.code;

const rawSockets: WebSocket[] = [];
afterAll(() => rawSockets.forEach((socket) => socket.terminate()));

/** A raw graphql-transport-ws socket, for what a hostile client sends and a real client never would. */
function rawSocket(wsUrl: string): { socket: WebSocket; opened: Promise<void>; closed: Promise<{ code: number; reason: string }> } {
  const socket = new WebSocket(wsUrl, "graphql-transport-ws");
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  rawSockets.push(socket);
  return { socket, opened, closed };
}

describe("subscription limits", () => {
  let t: TestApp;
  let admin: string;

  const post = async (payload: Record<string, unknown>) => expect((await postDelivery(t.url, payload)).status).toBe(200);
  const soc = (vehicleId: string, value: number, at: number) =>
    vehicleState({ vehicleId, signals: [{ code: SOC, body: { unit: "percent", value }, oemUpdatedAt: at }] });

  beforeAll(async () => {
    t = await startTestApp({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: "3", WS_MAX_REPLAY_ROWS: "5" });
    admin = await signToken({ role: "admin" });
  });

  describe("subscriptions per socket", () => {
    it("refuses one past WS_MAX_SUBSCRIPTIONS_PER_SOCKET with TOO_MANY_SUBSCRIPTIONS, keeps the others open, and accepts again once one ends", async () => {
      const vehicleId = randomUUID();
      const live = connectLive(t.wsUrl, { token: admin });
      const open = [];
      for (let i = 0; i < 3; i++) open.push(await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId }));
      const refused = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });

      const answer = await refused.receive();
      expect(answer).toMatchObject({ kind: "error" });
      expect(answer.kind === "error" && codeOf(answer.errors)).toBe("TOO_MANY_SUBSCRIPTIONS");
      expect(answer.kind === "error" && answer.errors[0].message).toMatch(/at most 3 subscriptions/);

      await post(soc(vehicleId, 50, T0));
      for (const subscription of open) expect((await subscription.next()).signalUpdated.value).toBe(50);

      open[0].unsubscribe();
      await pause(50);
      const again = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
      await post(soc(vehicleId, 51, T0 + 1_000));
      expect((await again.next()).signalUpdated.value).toBe(51);
      expect(refused.history).toHaveLength(1);
    });

    it("counts per socket: another socket of the same user has its own allowance", async () => {
      const vehicleId = randomUUID();
      const first = connectLive(t.wsUrl, { token: admin });
      const second = connectLive(t.wsUrl, { token: admin });
      for (let i = 0; i < 3; i++) await first.subscribe(SIGNAL_UPDATED, { vehicleId });
      const other = await second.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
      await post(soc(vehicleId, 60, T0));
      expect((await other.next()).signalUpdated.value).toBe(60);
    });
  });

  describe("since replays", () => {
    /** Stores `count` successive values of one vehicle, each its latest; returns the instant before them. */
    async function storeValues(vehicleId: string, count: number): Promise<Date> {
      await pause(5);
      const since = new Date();
      await pause(5);
      for (let i = 0; i < count; i++) await post(soc(vehicleId, i, T0 + i * 1_000));
      return since;
    }

    it("replays up to WS_MAX_REPLAY_ROWS rows in order, then goes live", async () => {
      const vehicleId = randomUUID();
      const since = await storeValues(vehicleId, 5);
      const live = connectLive(t.wsUrl, { token: admin });
      const resumed = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId, since: since.toISOString() });
      expect((await resumed.take(5)).map((event) => event.signalUpdated.value)).toEqual([0, 1, 2, 3, 4]);
      await post(soc(vehicleId, 99, T0 + 60_000));
      expect((await resumed.next()).signalUpdated.value).toBe(99);
    });

    it("sends the first WS_MAX_REPLAY_ROWS rows of a longer replay, then REPLAY_TOO_LONG; resuming from the last one continues", async () => {
      const vehicleId = randomUUID();
      const since = await storeValues(vehicleId, 8);
      const live = connectLive(t.wsUrl, { token: admin });
      const resumed = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId, since: since.toISOString() });
      const first = await resumed.take(5);
      expect(first.map((event) => event.signalUpdated.value)).toEqual([0, 1, 2, 3, 4]);
      const answer = await resumed.receive();
      expect(answer).toMatchObject({ kind: "error" });
      expect(answer.kind === "error" && codeOf(answer.errors)).toBe("REPLAY_TOO_LONG");
      expect(answer.kind === "error" && answer.errors[0].message).toMatch(/more than 5 changes/);

      // As the message says: subscribe again from the last receivedAt handled (which may come again).
      const next = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId, since: first[4].signalUpdated.receivedAt });
      const rest = (await next.take(3)).map((event) => event.signalUpdated.value);
      expect(rest.filter((value) => value !== 4)).toEqual(rest[0] === 4 ? [5, 6] : [5, 6, 7]);
    });

    it("answers every one of more concurrent replays than the process runs at once", async () => {
      const vehicleId = randomUUID();
      const since = await storeValues(vehicleId, 4);
      const live = connectLive(t.wsUrl, { token: admin });
      const replays = [];
      for (let i = 0; i < 3; i++) {
        // Three per socket (the cap), on several sockets: more replays than the process runs at once.
        const socket = i === 0 ? live : connectLive(t.wsUrl, { token: admin });
        for (let j = 0; j < 3; j++) replays.push(socket.client);
      }
      const results = await Promise.all(
        replays.map(
          (client) =>
            new Promise<number[]>((resolve, reject) => {
              const values: number[] = [];
              const unsubscribe = client.subscribe<SignalEvent>(
                { query: SIGNAL_UPDATED, variables: { vehicleId, since: since.toISOString() } },
                {
                  next: ({ data }) => {
                    values.push(data!.signalUpdated.value);
                    if (values.length === 4) {
                      unsubscribe();
                      resolve(values);
                    }
                  },
                  error: reject,
                  complete: () => {},
                },
              );
            }),
        ),
      );
      expect(results).toEqual(replays.map(() => [0, 1, 2, 3]));
    });
  });

  describe("token expiry", () => {
    async function tokenExpiringAt(exp: number): Promise<string> {
      return new SignJWT({ role: "admin", exp }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
    }

    it("keeps a socket whose token expires in 40 days (past setTimeout's range) open, delivering events", async () => {
      const live = connectLive(t.wsUrl, { token: await tokenExpiringAt(Math.floor(Date.now() / 1000) + 40 * 86_400) });
      const vehicleId = randomUUID();
      const subscription = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
      await pause(100);
      await post(soc(vehicleId, 70, T0));
      expect((await subscription.next()).signalUpdated.value).toBe(70);
      expect(await closedWithin(live.closed, 200)).toBe("still open");
    });

    it("treats an absurd exp (1e300) over WebSocket as HTTP does: both accept it, or both refuse it", async () => {
      const token = await tokenExpiringAt(1e300);
      const http = await gql(t.url, "{ __typename }", { token });
      const live = connectLive(t.wsUrl, { token });
      if (http.status === 200) {
        const vehicleId = randomUUID();
        const subscription = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
        await pause(100);
        await post(soc(vehicleId, 71, T0));
        expect((await subscription.next()).signalUpdated.value).toBe(71);
        expect(await closedWithin(live.closed, 200)).toBe("still open");
      } else {
        expect(http.status).toBe(401);
        expect(await live.closed).toMatchObject({ code: 4401 });
      }
    });
  });

  describe("hostile sockets", () => {
    it("closes a socket that floods messages with 1008", async () => {
      const { socket, opened, closed } = rawSocket(t.wsUrl);
      await opened;
      socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${admin}` } }));
      for (let i = 0; i < 1_000; i++) socket.send(JSON.stringify({ type: "ping" }));
      expect(await closedWithin(closed, 5_000)).toMatchObject({ code: 1008, reason: "Too many messages" });
    });

    it("lets a client that subscribes to its allowance at once, then pings, stay", async () => {
      const live = connectLive(t.wsUrl, { token: admin });
      await live.connected;
      for (let i = 0; i < 3; i++) void live.subscribe(SIGNAL_UPDATED, { vehicleId: randomUUID() });
      await pause(300);
      expect(await closedWithin(live.closed, 100)).toBe("still open");
    });

    it("closes a socket that sends no connection_init within 3 s with 4408", async () => {
      const { opened, closed } = rawSocket(t.wsUrl);
      await opened;
      expect(await closedWithin(closed, 10_000)).toMatchObject({ code: 4408 });
    });

    it("closes a socket that sends a message over 64 KiB (huge variables) with 1009", async () => {
      const live = connectLive(t.wsUrl, { token: admin });
      await live.connected;
      live.client.subscribe({ query: SIGNAL_UPDATED, variables: { vehicleId: "x".repeat(100 * 1024) } }, { next: () => {}, error: () => {}, complete: () => {} });
      expect(await live.closed).toMatchObject({ code: 1009 });
    });
  });
});

describe("subscription errors", () => {
  it("answers SERVICE_UNAVAILABLE, not the driver's message, when a replay cannot reach the database", async () => {
    const proxy = await startTcpProxy((await testDatabase()).url);
    const t = await startTestApp({ DATABASE_URL: proxy.url });
    const live = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
    await live.connected;
    try {
      await proxy.cut();
      const resumed = await live.subscribe(SIGNAL_UPDATED, { vehicleId: randomUUID(), since: new Date(0).toISOString() });
      const answer = await resumed.receive(20_000);
      expect(answer).toMatchObject({ kind: "error" });
      expect(answer.kind === "error" && answer.errors[0]).toEqual({ message: "database unavailable, retry later", extensions: { code: "SERVICE_UNAVAILABLE" } });
    } finally {
      await proxy.restore();
    }
    await t.stop();
    await proxy.close();
  }, 30_000);
});

describe("introspection", () => {
  const INTROSPECTION = ["{ __schema { queryType { name } } }", `{ __type(name: "Query") { name } }`];

  async function overWebSocket(live: LiveClient, query: string) {
    const subscription = await live.subscribe(query);
    return subscription.receive();
  }

  it("is refused over HTTP and over WebSocket in production, with the same code", async () => {
    const t = await startTestApp({ NODE_ENV: "production" });
    const live = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
    for (const query of INTROSPECTION) {
      const http = await gql(t.url, query, { token: await signToken({ role: "admin" }) });
      expect(http.status).toBe(400);
      expect(http.errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");

      const ws = await overWebSocket(live, query);
      expect(ws).toMatchObject({ kind: "error" });
      expect(ws.kind === "error" && codeOf(ws.errors)).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(ws.kind === "error" && ws.errors[0].message).toMatch(/introspection/i);
    }
    // __typename is not introspection.
    expect(await overWebSocket(live, "{ __typename }")).toEqual({ kind: "next", data: { __typename: "Query" } });
  });

  it("answers over both transports outside production", async () => {
    const t = await startTestApp({ NODE_ENV: "development" });
    const live = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
    const http = await gql(t.url, INTROSPECTION[0], { token: await signToken({ role: "admin" }) });
    expect(http.status).toBe(200);
    expect(await overWebSocket(live, INTROSPECTION[1])).toEqual({ kind: "next", data: { __type: { name: "Query" } } });
  });
});
