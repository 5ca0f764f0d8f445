import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import type { App } from "../../src/app";
import { encodeRecord } from "../../src/webhooks/spool-record";
import { gql, gqlData, signToken } from "../helpers/graphql";
import { postDelivery, vehicleState } from "../helpers/smartcar";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { startTestApp, testDatabase } from "../helpers/test-app";

interface SpoolingApp {
  readonly app: App;
  readonly url: string;
  readonly logs: string[];
  stop(): Promise<void>;
}

const running: SpoolingApp[] = [];
const proxies: TcpProxy[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
  for (const proxy of proxies.splice(0)) await proxy.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function spoolDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-spool-"));
  dirs.push(dir);
  return dir;
}

async function proxied(): Promise<TcpProxy> {
  const proxy = await startTcpProxy((await testDatabase()).url);
  proxies.push(proxy);
  return proxy;
}

/** The real app, with its log lines kept for the test to read. */
async function startSpoolingApp(env: Record<string, string>): Promise<SpoolingApp> {
  const logs: string[] = [];
  const { app } = await startTestApp(env, { logs });
  const t = { app, url: app.url, logs, stop: () => app.stop() };
  running.push(t);
  return t;
}

async function readyz(url: string): Promise<{ status: number; body: { spool?: { depth: number; damagedBytes: number } } }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as { spool?: { depth: number; damagedBytes: number } } };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const drained = (url: string) => until("the spool is drained", async () => {
  const ready = await readyz(url);
  return ready.status === 200 && ready.body.spool?.depth === 0;
});

/** Rows per event id in webhook_events and signal_readings, straight from the database. */
async function stored(eventIds: string[]): Promise<{ events: Map<string, number>; readings: Map<string, number> }> {
  const client = new Client({ connectionString: (await testDatabase()).url });
  await client.connect();
  try {
    const count = async (table: string) => {
      const { rows } = await client.query<{ event_id: string; n: string }>(
        `SELECT event_id, count(*) AS n FROM ${table} WHERE event_id = ANY($1) GROUP BY event_id`,
        [eventIds],
      );
      return new Map(rows.map((row) => [row.event_id, Number(row.n)]));
    };
    return { events: await count("webhook_events"), readings: await count("signal_readings") };
  } finally {
    await client.end();
  }
}

const odometer = (value: number) => ({ code: "odometer-traveleddistance", body: { value, unit: "km" } });

describe("the spool (SPOOL_DIR)", () => {
  it("answers 202 while the database is cut, then applies every spooled delivery once, in order, when it is back", async () => {
    const proxy = await proxied();
    const t = await startSpoolingApp({ DATABASE_URL: proxy.url, SPOOL_DIR: spoolDir() });
    const vehicleId = randomUUID();
    expect((await postDelivery(t.url, vehicleState({ vehicleId, signals: [odometer(1)] }))).status).toBe(200);

    await proxy.cut();
    const cutAt = Date.now();
    const deliveries = Array.from({ length: 8 }, (_, i) => vehicleState({ vehicleId, signals: [odometer(10 + i)], deliveredAt: cutAt + i }));
    for (const delivery of deliveries) {
      const answer = await postDelivery(t.url, delivery);
      expect(answer).toMatchObject({ status: 202, body: { status: "spooled", eventId: delivery.eventId } });
    }
    // A Smartcar retry of a spooled event (same eventId, new deliveryId) is spooled again, and applied once.
    const retry = { ...deliveries[0], meta: { ...(deliveries[0].meta as object), deliveryId: randomUUID() } };
    expect((await postDelivery(t.url, retry)).status).toBe(202);

    const down = await readyz(t.url);
    expect(down).toMatchObject({ status: 503, body: { spool: { depth: 9 } } });
    expect(t.logs.join("")).toMatch(/database unreachable: spooling deliveries/);

    await proxy.restore();
    await drained(t.url);
    // Depth reaches 0 as the last batch is acknowledged; the line comes once that is on disk.
    await until("the drain is logged", async () => /spool drained/.test(t.logs.join("")));
    const ids = deliveries.map((d) => d.eventId as string);
    const { events, readings } = await stored(ids);
    expect(ids.map((id) => [events.get(id), readings.get(id)])).toEqual(ids.map(() => [1, 1]));

    // The newest value won, and the time of receipt is the original one, not the drain's.
    const client = new Client({ connectionString: (await testDatabase()).url });
    await client.connect();
    try {
      const { rows } = await client.query<{ value: number }>(`SELECT value FROM signals WHERE vehicle_id = $1`, [vehicleId]);
      expect(rows).toEqual([{ value: 17 }]);
      const received = await client.query<{ received_at: Date }>(`SELECT received_at FROM webhook_events WHERE event_id = $1`, [ids[7]]);
      expect(received.rows[0].received_at.getTime()).toBeLessThan(Date.now() - 200);
      expect(received.rows[0].received_at.getTime()).toBeGreaterThanOrEqual(cutAt - 1000);
    } finally {
      await client.end();
    }
    expect((await postDelivery(t.url, vehicleState({ vehicleId, signals: [odometer(99)] }))).status).toBe(200);
  });

  it("answers every webhook within 10 s while the database silently drops every byte, and drains once it is back", async () => {
    const proxy = await proxied();
    const t = await startSpoolingApp({ DATABASE_URL: proxy.url, SPOOL_DIR: spoolDir(), DATABASE_QUERY_TIMEOUT_MS: "3000" });
    for (let i = 0; i < 3; i++) {
      expect((await postDelivery(t.url, vehicleState({ vehicleId: randomUUID(), signals: [odometer(i)] }))).status).toBe(200);
    }
    await proxy.blackhole();
    const deliveries = Array.from({ length: 12 }, (_, i) => vehicleState({ vehicleId: randomUUID(), signals: [odometer(i)] }));
    const timed = async (delivery: Record<string, unknown>) => {
      const started = Date.now();
      const answer = await postDelivery(t.url, delivery);
      return { status: answer.status, ms: Date.now() - started };
    };
    // A first wave finds the silence, the next goes straight to the spool.
    const answers = [...(await Promise.all(deliveries.slice(0, 6).map(timed))), ...(await Promise.all(deliveries.slice(6).map(timed)))];
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(answer.ms).toBeLessThan(10_000);
    }

    await proxy.restore();
    await drained(t.url);
    const ids = deliveries.map((d) => d.eventId as string);
    const { events, readings } = await stored(ids);
    expect(ids.map((id) => [events.get(id), readings.get(id)])).toEqual(ids.map(() => [1, 1]));
  });

  it("starts while the database is unreachable, spools, and serves everything once the database answers", async () => {
    const proxy = await proxied();
    await proxy.cut();
    const t = await startSpoolingApp({ DATABASE_URL: proxy.url, SPOOL_DIR: spoolDir(), DATABASE_CONNECT_TIMEOUT_MS: "1000" });
    const delivery = vehicleState({ vehicleId: randomUUID(), signals: [odometer(5)] });
    expect((await postDelivery(t.url, delivery)).status).toBe(202);
    const query = `{ vehicle(id: "${(delivery.data as { vehicle: { id: string } }).vehicle.id}") { id } }`;
    const token = await signToken({ role: "admin" });
    const unavailable = await gql(t.url, query, { token });
    expect(unavailable).toMatchObject({ status: 503, errors: [{ extensions: { code: "SERVICE_UNAVAILABLE" } }] });
    expect(t.logs.join("")).toMatch(/database unreachable at start/);

    await proxy.restore();
    await drained(t.url);
    expect((await stored([delivery.eventId as string])).readings.get(delivery.eventId as string)).toBe(1);
    expect(await gqlData(t.url, query, { token })).toEqual({ vehicle: { id: expect.any(String) } });
  });

  it("drains past a damaged record and a torn tail, keeps what no longer parses as a rejection, and reports the damage", async () => {
    const dir = spoolDir();
    const deliveries = Array.from({ length: 4 }, (_, i) => vehicleState({ vehicleId: randomUUID(), signals: [odometer(i)] }));
    const record = (body: unknown) => encodeRecord({ receivedAt: new Date(), rawBody: Buffer.from(JSON.stringify(body)) });
    const damaged = record(deliveries[1]);
    damaged[damaged.length - 5] ^= 0x20;
    const notADelivery = { eventId: randomUUID(), eventType: "VEHICLE_STATE", data: "not an object" };
    const torn = record(deliveries[3]);
    fs.writeFileSync(
      path.join(dir, "deliveries.spool"),
      Buffer.concat([record(deliveries[0]), damaged, record(deliveries[2]), record(notADelivery), torn.subarray(0, torn.length - 7)]),
    );

    const t = await startSpoolingApp({ SPOOL_DIR: dir });
    await drained(t.url);
    const ids = deliveries.map((d) => d.eventId as string);
    const { readings } = await stored(ids);
    expect(ids.map((id) => readings.get(id) ?? 0)).toEqual([1, 0, 1, 0]);
    const ready = await readyz(t.url);
    expect(ready.body.spool?.damagedBytes).toBeGreaterThanOrEqual(damaged.length + torn.length - 7);
    expect(t.logs.join("")).toMatch(/spool: torn tail removed/);
    expect(t.logs.join("")).toMatch(/spool: damaged bytes skipped/);

    const client = new Client({ connectionString: (await testDatabase()).url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT 1 FROM webhook_rejections WHERE event_id = $1`, [notADelivery.eventId]);
      expect(rows).toHaveLength(1);
    } finally {
      await client.end();
    }
  });

  it("keeps a spooled body whose eventId or eventType PostgreSQL cannot store as a rejection, and drains on past it", async () => {
    const dir = spoolDir();
    const record = (raw: string) => encodeRecord({ receivedAt: new Date(), rawBody: Buffer.from(raw) });
    // Bodies a newer version refuses, filed under labels that must be made storable (as over HTTP).
    const withNul = `{"eventId":"nul-\\u0000-${randomUUID()}","eventType":"VEHICLE_STATE","data":"not an object"}`;
    const withSurrogate = `{"eventId":"${randomUUID()}","eventType":"VEHICLE_\\ud800STATE","data":"not an object"}`;
    const good = vehicleState({ vehicleId: randomUUID(), signals: [odometer(1)] });
    fs.writeFileSync(path.join(dir, "deliveries.spool"), Buffer.concat([record(withNul), record(withSurrogate), record(JSON.stringify(good))]));

    const t = await startSpoolingApp({ SPOOL_DIR: dir });
    await drained(t.url);
    expect((await stored([good.eventId as string])).readings.get(good.eventId as string)).toBe(1);
    const client = new Client({ connectionString: (await testDatabase()).url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT event_id, event_type, raw_body FROM webhook_rejections ORDER BY id DESC LIMIT 2`);
      // The raw bodies exactly as spooled; their labels with U+FFFD where PostgreSQL could not hold a character.
      expect(rows.map((row: { raw_body: Buffer }) => row.raw_body.toString()).sort()).toEqual([withNul, withSurrogate].sort());
      expect(rows.map((row: { event_id: string }) => row.event_id).find((id: string) => id.startsWith("nul-"))).toMatch(/^nul-\ufffd-/);
      expect(rows.map((row: { event_type: string }) => row.event_type)).toContain("VEHICLE_\ufffdSTATE");
    } finally {
      await client.end();
    }
  });

  it("answers 503, not 202, when the spool cannot be written (a full disk)", async () => {
    if (!fs.existsSync("/dev/full")) return; // Linux only: writing to /dev/full always fails with ENOSPC
    const dir = spoolDir();
    fs.symlinkSync("/dev/full", path.join(dir, "deliveries.spool"));
    const proxy = await proxied();
    const t = await startSpoolingApp({ DATABASE_URL: proxy.url, SPOOL_DIR: dir });
    await proxy.cut();
    const answer = await postDelivery(t.url, vehicleState({ vehicleId: randomUUID(), signals: [odometer(1)] }));
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await readyz(t.url)).body.spool?.depth).toBe(0);
  });

  it("refuses a second instance on the same SPOOL_DIR", async () => {
    const dir = spoolDir();
    const first = await startSpoolingApp({ SPOOL_DIR: dir });
    await expect(startSpoolingApp({ SPOOL_DIR: dir })).rejects.toThrow(/SPOOL_DIR is .*in use/);
    await first.stop();
    await startSpoolingApp({ SPOOL_DIR: dir });
  });
});
