import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { postDelivery, vehicleState, type SignalSpec } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";
import { closedWithin, connectLive, signToken } from "../../helpers/ws-client";

const T0 = Date.parse("2026-11-01T10:00:00Z");
/** Changes a subscription queues before the server counts as behind (the hub's default). */
const QUEUE_LIMIT = 1_000;

interface SignalEvent {
  signalUpdated: { code: string; value: number };
}

/** The value of an unlabelled sample in Prometheus text; undefined when absent. */
function sample(text: string, name: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/**
 * One delivery listing `rounds` successive values of each of `codes` signals: one commit announces
 * them all at once (rounds × codes changes in one burst), far faster than a subscription sends them.
 */
function burst(vehicleId: string, codes: string[], rounds: number, body: (round: number) => unknown = (round) => ({ value: round })) {
  const signals: SignalSpec[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const code of codes) signals.push({ code, body: body(round), oemUpdatedAt: T0 + round * 1_000 });
  }
  return vehicleState({ vehicleId, signals });
}

describe("subscriptions under load", () => {
  let t: TestApp;
  const logs: string[] = [];
  const sockets: WebSocket[] = [];
  afterAll(() => sockets.forEach((socket) => socket.terminate()));

  beforeAll(async () => {
    // Room for the large bodies of the client that does not read.
    t = await startTestApp({ WEBHOOK_BODY_LIMIT: String(8 * 1024 * 1024) }, { logs });
  });

  it("keeps a reading client's socket open when changes pile up faster than the server sends them, and sends every signal's newest value", async () => {
    const vehicleId = randomUUID();
    const live = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
    const subscription = await live.subscribe<SignalEvent>(`subscription ($vehicleId: ID) { signalUpdated(vehicleId: $vehicleId) { code value } }`, {
      vehicleId,
    });
    const codes = Array.from({ length: 500 }, (_, i) => `test-signal${i}`);
    const rounds = 3;
    expect(codes.length * rounds).toBeGreaterThan(QUEUE_LIMIT);
    const before = sample(await scrape(t.url), "fleetgraph_subscription_changes_coalesced_total") ?? 0;

    expect(await postDelivery(t.url, burst(vehicleId, codes, rounds))).toMatchObject({ status: 200, body: { status: "applied" } });

    // Everything the client hears, until every signal has reached its newest value.
    const values = new Map<string, number[]>();
    const reachedNewest = () => codes.every((code) => values.get(code)?.at(-1) === rounds);
    while (!reachedNewest()) {
      const { signalUpdated } = await subscription.next(20_000);
      values.set(signalUpdated.code, [...(values.get(signalUpdated.code) ?? []), signalUpdated.value]);
    }

    expect(await closedWithin(live.closed, 300)).toBe("still open");
    expect(subscription.pending).toBe(0);
    // Intermediate values may be skipped, never sent out of order.
    for (const [code, seen] of values) expect([code, seen]).toEqual([code, [...seen].sort((a, b) => a - b)]);
    const sent = [...values.values()].reduce((sum, seen) => sum + seen.length, 0);
    expect(sent).toBeLessThan(codes.length * rounds);
    const coalesced = (sample(await scrape(t.url), "fleetgraph_subscription_changes_coalesced_total") ?? 0) - before;
    expect(coalesced).toBe(codes.length * rounds - sent);
    expect(logs.filter((line) => line.includes("does not keep up"))).toEqual([]);
  }, 60_000);

  it("still drops a client that stops reading: its socket backs up, and it is closed with 1013", async () => {
    const vehicleId = randomUUID();
    const logsBefore = logs.length;
    const drops = () => logs.slice(logsBefore).filter((line) => line.includes("does not keep up"));
    const socket = new WebSocket(t.wsUrl, "graphql-transport-ws");
    sockets.push(socket);
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    const acknowledged = new Promise<void>((resolve) => socket.once("message", () => resolve()));
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${await signToken({ role: "admin" })}` } }));
    await acknowledged;
    // Each event repeats its signal's 16 KiB body 16 times: a few hundred fill every buffer between the two ends.
    const fields = Array.from({ length: 16 }, (_, i) => `b${i}: body`).join(" ");
    socket.send(
      JSON.stringify({
        id: "1",
        type: "subscribe",
        payload: { query: `subscription ($vehicleId: ID) { signalUpdated(vehicleId: $vehicleId) { ${fields} } }`, variables: { vehicleId } },
      }),
    );
    // A query answered on the same socket: the subscription is registered.
    const answered = new Promise<void>((resolve) => socket.on("message", (data) => String(data).includes('"id":"2"') && resolve()));
    socket.send(JSON.stringify({ id: "2", type: "subscribe", payload: { query: "{ __typename }" } }));
    await answered;
    socket.pause();

    const large = { value: 1, padding: "x".repeat(16 * 1024) };
    const big = Array.from({ length: 300 }, (_, i) => `test-large${i}`);
    const small = Array.from({ length: QUEUE_LIMIT + 100 }, (_, i) => `test-small${i}`);
    const delivered = async () => sample(await scrape(t.url), "fleetgraph_changes_delivered_total") ?? 0;
    const deliveredBefore = await delivered();
    expect((await postDelivery(t.url, burst(vehicleId, big, 1, () => large))).status).toBe(200);
    // The server sends until the buffers between the two ends are full, then waits for the client.
    expect((await stalled(delivered)) - deliveredBefore).toBeLessThan(big.length);
    expect((await postDelivery(t.url, burst(vehicleId, small, 1))).status).toBe(200);

    await waitFor(() => drops().length > 0, 20_000);
    expect(drops()).toHaveLength(1);
    expect((JSON.parse(drops()[0]) as { bufferedAmount: number }).bufferedAmount).toBeGreaterThan(0);
    socket.resume();
    // Its close frame waits behind what it had not read: reading again, the client gets it.
    expect(await closedWithin(closed, 10_000)).toBe(1013);
  }, 60_000);
});

/** The value `read` gives twice in a row, a second apart. */
async function stalled(read: () => Promise<number>): Promise<number> {
  let last = await read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = await read();
    if (now === last) return now;
    last = now;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
