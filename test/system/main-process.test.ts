import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { hmacHex } from "../../src/webhooks/signature";
import { listeningUrl, runMain, waitForOutput, type MainProcess } from "../helpers/main-process";
import { postDelivery, vehicleState } from "../helpers/smartcar";
import { startTcpProxy } from "../helpers/tcp-proxy";
import { TEST_MANAGEMENT_TOKEN } from "../helpers/test-app";
import { createTestDatabase, describeOnPostgres, type TestDatabase } from "../helpers/test-database";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Smartcar, sped up: a few concurrent senders post signed deliveries to `url` (which a test may move),
 * each retried after every non-2xx or failed connection with Smartcar's backoff shortened a hundredfold
 * (25 s, 50 s, 100 s become 0.25 s, 0.5 s, 1 s), then dropped for good, as Smartcar drops it.
 */
class FakeSmartcar {
  static readonly RETRY_DELAYS_MS = [250, 500, 1000];
  url = "";
  /** eventId → the 2xx status that acknowledged it. */
  readonly acknowledged = new Map<string, number>();
  readonly statuses: number[] = [];
  readonly dropped: string[] = [];
  private running = true;
  private readonly senders: Promise<void>[];

  constructor(senders: number, private readonly intervalMs: number) {
    this.senders = Array.from({ length: senders }, (_, i) => this.send(`vehicle-${i}`));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.senders);
  }

  private async send(vehicleId: string): Promise<void> {
    for (let odometer = 0; this.running; odometer++) {
      await this.deliver(vehicleState({ vehicleId, signals: [{ code: "odometer-traveleddistance", body: { value: odometer } }] }));
      await sleep(this.intervalMs);
    }
  }

  private async deliver(delivery: Record<string, unknown>): Promise<void> {
    for (const delay of [0, ...FakeSmartcar.RETRY_DELAYS_MS]) {
      await sleep(delay);
      const status = await postDelivery(this.url, delivery).then((answer) => answer.status, () => 0);
      this.statuses.push(status);
      if (status >= 200 && status < 300) {
        this.acknowledged.set(delivery.eventId as string, status);
        return;
      }
    }
    this.dropped.push(delivery.eventId as string);
  }
}

/** Rows per event id in webhook_events and in signal_readings (each delivery carries one signal). */
async function rowsPerEvent(database: TestDatabase): Promise<{ events: Map<string, number>; readings: Map<string, number> }> {
  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    const count = async (table: string) => {
      const { rows } = await client.query<{ event_id: string; n: string }>(`SELECT event_id, count(*) AS n FROM ${table} GROUP BY event_id`);
      return new Map(rows.map((row) => [row.event_id, Number(row.n)]));
    };
    return { events: await count("webhook_events"), readings: await count("signal_readings") };
  } finally {
    await client.end();
  }
}

function expectEachAppliedOnce(acknowledged: Iterable<string>, stored: { events: Map<string, number>; readings: Map<string, number> }): void {
  const ids = [...acknowledged];
  expect(ids.filter((id) => stored.events.get(id) !== 1 || stored.readings.get(id) !== 1)).toEqual([]);
  // Nothing applied twice, acknowledged or not.
  expect([...stored.readings.values()].filter((n) => n !== 1)).toEqual([]);
}

describe("the service process", () => {
  const running: MainProcess[] = [];
  afterEach(() => {
    for (const main of running.splice(0)) main.child.kill("SIGKILL");
  });

  it("refuses to start in production without its secrets, naming them and printing no secret", async () => {
    const main = runMain({ NODE_ENV: "production", JWT_SECRET: "too-short-but-secret", DATABASE_URL: "postgres://u:pw@127.0.0.1:1/x" });
    running.push(main);
    expect(await main.exited).toBe(78);
    expect(main.output()).toMatch(/SMARTCAR_MANAGEMENT_TOKEN is required when NODE_ENV=production/);
    expect(main.output()).toMatch(/JWT_SECRET must be at least 32 bytes/);
    expect(main.output()).not.toContain("too-short-but-secret");
  });

  describe("without DATABASE_URL", () => {
    let dataDir: string;
    // Stored by the first start, recognised by the second: the data survived the restart.
    const delivery = vehicleState({ vehicleId: "restart-vehicle", signals: [{ code: "odometer-traveleddistance", body: { value: 1 } }] });
    beforeAll(() => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-"));
    });
    afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    it("serves from an embedded database in DATA_DIR, stops cleanly, and reopens it with the data written before", async () => {
      const first = runMain({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" });
      running.push(first);
      let url = await listeningUrl(first);
      expect(first.output()).toMatch(/database: embedded PostgreSQL \(PGlite\)/);
      expect(first.output()).toMatch(/JWT_SECRET is not set: the GraphQL API is OPEN/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      // No SMARTCAR_MANAGEMENT_TOKEN: development accepts unsigned deliveries.
      expect((await postDelivery(url, delivery, { token: null })).body).toEqual({ status: "applied", eventId: delivery.eventId });
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);
      expect(fs.readdirSync(dataDir).length).toBeGreaterThan(0);

      const second = runMain({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" });
      running.push(second);
      url = await listeningUrl(second);
      // The first start applied the migrations; a reopened database has nothing left to apply.
      expect(second.output()).not.toMatch(/migrations applied/);
      expect((await postDelivery(url, delivery, { token: null })).body).toEqual({ status: "duplicate", eventId: delivery.eventId });
      second.child.kill("SIGINT");
      expect(await second.exited).toBe(0);
    });
  });

  describeOnPostgres("against PostgreSQL", "the child reaches its database through a TCP proxy that cuts it", () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => database?.release());
    const base = () => ({
      PORT: "0",
      HOST: "127.0.0.1",
      SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN,
      LOG_LEVEL: "info",
    });

    it("keeps every acknowledged delivery through a database cut longer than the retry window and a SIGKILL in the middle", async () => {
      const proxy = await startTcpProxy(database.url);
      const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-spool-"));
      const env = { ...base(), DATABASE_URL: proxy.url, SPOOL_DIR: spoolDir, DATABASE_CONNECT_TIMEOUT_MS: "1000" };
      const smartcar = new FakeSmartcar(4, 50);
      try {
        const first = runMain(env);
        running.push(first);
        smartcar.url = await listeningUrl(first);
        await sleep(1000);
        await proxy.cut();
        const cutAt = Date.now();
        await sleep(2000); // longer than the whole (shortened) retry window: without the spool these would be dropped
        first.child.kill("SIGKILL");
        await first.exited;

        // Restarted while the database is still away: it serves from the spool it finds.
        const second = runMain(env);
        running.push(second);
        smartcar.url = await listeningUrl(second);
        expect(second.output()).toMatch(/database unreachable at start/);
        expect(second.output()).toMatch(/spool: deliveries waiting to be drained/);
        // A second instance on the same SPOOL_DIR is refused (the first one's lock was stale: it was killed).
        const intruder = runMain(env);
        running.push(intruder);
        await sleep(1500);
        expect(await intruder.exited).toBe(1);
        expect(intruder.output()).toMatch(/SPOOL_DIR is in use by process \d+/);
        const cutFor = Date.now() - cutAt;
        await proxy.restore();
        await waitForOutput(second, /database reachable/);
        await smartcar.stop();
        await waitForOutput(second, /spool drained/);
        for (let tries = 0; ; tries++) {
          const ready = (await (await fetch(`${smartcar.url}/readyz`)).json()) as { spool?: { depth: number } };
          if (ready.spool?.depth === 0) break;
          if (tries > 100) throw new Error(`the spool did not drain: ${JSON.stringify(ready)}`);
          await sleep(200);
        }

        expect(cutFor).toBeGreaterThan(FakeSmartcar.RETRY_DELAYS_MS.reduce((a, b) => a + b));
        expect(smartcar.statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
        expect([...smartcar.acknowledged.values()].filter((status) => status === 202).length).toBeGreaterThan(10);
        expectEachAppliedOnce(smartcar.acknowledged.keys(), await rowsPerEvent(database));
        second.child.kill("SIGTERM");
        expect(await second.exited).toBe(0);
      } finally {
        await smartcar.stop();
        await proxy.close();
        fs.rmSync(spoolDir, { recursive: true, force: true });
      }
    });

    it("loses nothing acknowledged to a SIGKILL under load, and answers every request it began to read before a SIGTERM", async () => {
      const env = { ...base(), DATABASE_URL: database.url };
      const killed = runMain(env);
      running.push(killed);
      const load = new FakeSmartcar(6, 0);
      load.url = await listeningUrl(killed);
      await sleep(1500);
      killed.child.kill("SIGKILL");
      await killed.exited;
      await load.stop();
      expect([...load.acknowledged.values()].filter((status) => status === 200).length).toBeGreaterThan(10);
      expectEachAppliedOnce(load.acknowledged.keys(), await rowsPerEvent(database));

      const terminated = runMain(env);
      running.push(terminated);
      const url = await listeningUrl(terminated);
      const moreLoad = new FakeSmartcar(6, 0);
      moreLoad.url = url;
      await sleep(500);
      // Requests half sent (headers or body) when SIGTERM arrives: each must still be answered.
      const halfSent = [40, 40, -20, -20].map((split) => startHalfSentDelivery(url, split));
      await Promise.all(halfSent.map((request) => request.started));
      terminated.child.kill("SIGTERM");
      await sleep(300);
      const answers = await Promise.all(halfSent.map((request) => request.finish()));
      expect(answers.map((answer) => answer.split("\r\n")[0])).toEqual(answers.map(() => "HTTP/1.1 200 OK"));
      expect(await terminated.exited).toBe(0);
      await moreLoad.stop();
      expect(moreLoad.statuses.filter((status) => status >= 500)).toEqual([]);
      const stored = await rowsPerEvent(database);
      expectEachAppliedOnce(moreLoad.acknowledged.keys(), stored);
      expect(halfSent.map((request) => stored.events.get(request.eventId))).toEqual([1, 1, 1, 1]);
    });
  });
});

/**
 * A signed delivery sent over a raw socket in two parts, split at byte `split` (from the end when
 * negative): `finish()` sends the rest and resolves with the raw answer.
 */
function startHalfSentDelivery(url: string, split: number): { eventId: string; started: Promise<void>; finish(): Promise<string> } {
  const delivery = vehicleState({ vehicleId: "half-sent", signals: [{ code: "odometer-traveleddistance", body: { value: 1 } }] });
  const body = Buffer.from(JSON.stringify(delivery));
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let answer = "";
  socket.on("data", (chunk) => (answer += chunk.toString()));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  const request = Buffer.concat([
    Buffer.from(
      `POST /webhooks/smartcar HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
        `SC-Signature: ${hmacHex(TEST_MANAGEMENT_TOKEN, body)}\r\nContent-Length: ${body.length}\r\n\r\n`,
    ),
    body,
  ]);
  const splitAt = split < 0 ? request.length + split : split;
  const started = new Promise<void>((resolve) => {
    socket.on("connect", () => socket.write(request.subarray(0, splitAt), () => setTimeout(resolve, 200)));
  });
  return {
    eventId: delivery.eventId as string,
    started,
    async finish() {
      socket.write(request.subarray(splitAt));
      await Promise.race([closed, sleep(10_000)]);
      socket.destroy();
      return answer;
    },
  };
}
