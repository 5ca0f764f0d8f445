import { randomUUID } from "node:crypto";
import { loadConfig } from "../../../src/config";
import { createLogger } from "../../../src/logger";
import { purgeExpired, RetentionJob } from "../../../src/webhooks/retention";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

/** Retention (README, "Retention and privacy"): what is older than the limits goes, in batches; the rest stays. */
const ODOMETER = "odometer-traveleddistance";
const DAY = 24 * 3_600_000;
const LIMITS = { historyDays: 30, rawEventDays: 7 };

describe("retention", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HISTORY_RETENTION_DAYS: "30", RAW_EVENT_RETENTION_DAYS: "7" });
  });

  /** Posts a delivery read `daysAgo` days ago, then dates its receipt (raw event and readings) back as far. */
  async function delivered(vehicleId: string, daysAgo: number, value: number): Promise<{ eventId: string; payload: Record<string, unknown> }> {
    const eventId = randomUUID();
    const readAt = Date.now() - daysAgo * DAY;
    const payload = vehicleState({ vehicleId, userId: "user-r", eventId, deliveredAt: readAt, signals: [{ code: ODOMETER, body: { value } }] });
    expect((await postDelivery(t.url, payload)).body).toMatchObject({ status: "applied" });
    const receivedAt = new Date(readAt);
    await t.app.dataSource.query(`UPDATE webhook_events SET received_at = $2, last_received_at = $2 WHERE event_id = $1`, [eventId, receivedAt]);
    await t.app.dataSource.query(`UPDATE signal_readings SET applied_at = $2 WHERE event_id = $1`, [eventId, receivedAt]);
    return { eventId, payload };
  }

  async function readingEvents(vehicleId: string): Promise<string[]> {
    const rows: Array<{ event_id: string }> = await t.app.dataSource.query(
      `SELECT event_id FROM signal_readings WHERE vehicle_id = $1 ORDER BY observed_at`,
      [vehicleId],
    );
    return rows.map((row) => row.event_id);
  }

  async function rawEvents(eventIds: string[]): Promise<string[]> {
    const rows: Array<{ event_id: string }> = await t.app.dataSource.query(`SELECT event_id FROM webhook_events WHERE event_id = ANY($1)`, [eventIds]);
    return rows.map((row) => row.event_id).sort();
  }

  it("purges readings and raw events older than their limits, in batches, and keeps the rest and every latest value", async () => {
    const vehicle = `retention-${randomUUID()}`;
    const old1 = await delivered(vehicle, 50, 100);
    const old2 = await delivered(vehicle, 40, 200);
    const sixDays = await delivered(vehicle, 6, 300);
    const fresh = await delivered(vehicle, 0, 400);
    // A vehicle silent for longer than the history limit: its only reading is its latest value.
    const silent = `retention-silent-${randomUUID()}`;
    const silentOld = await delivered(silent, 60, 7);

    expect((await postDelivery(t.url, { hello: "not a delivery" })).status).toBe(422);
    expect((await postDelivery(t.url, { hello: "a recent one" })).status).toBe(422);
    await t.app.dataSource.query(`UPDATE webhook_rejections SET received_at = now() - interval '40 days' WHERE convert_from(raw_body, 'UTF8') LIKE '%not a delivery%'`);

    const result = await purgeExpired(t.app.dataSource, LIMITS, { batchSize: 1, pauseMs: 0 });

    expect(result).toEqual({ signalReadings: 2, webhookEvents: 3, webhookRejections: 1, skipped: false });
    expect(await readingEvents(vehicle)).toEqual([sixDays.eventId, fresh.eventId]);
    expect(await readingEvents(silent)).toEqual([silentOld.eventId]);
    const [latest] = await t.app.dataSource.query(`SELECT value FROM signals WHERE vehicle_id = $1`, [silent]);
    expect(latest.value).toBe(7);
    expect(await rawEvents([old1.eventId, old2.eventId, sixDays.eventId, fresh.eventId, silentOld.eventId])).toEqual(
      [sixDays.eventId, fresh.eventId].sort(),
    );
    const rejections: Array<{ body: string }> = await t.app.dataSource.query(`SELECT convert_from(raw_body, 'UTF8') AS body FROM webhook_rejections`);
    expect(rejections.map((row) => row.body)).toEqual([expect.stringContaining("a recent one")]);

    // A Smartcar retry (same eventId, new deliveryId) of the kept six-day-old event is still a duplicate.
    const retry = { ...sixDays.payload, meta: { ...(sixDays.payload.meta as object), deliveryId: randomUUID(), deliveredAt: Date.now() } };
    expect((await postDelivery(t.url, retry)).body).toMatchObject({ status: "duplicate", eventId: sixDays.eventId });

    // A second run finds nothing more.
    expect(await purgeExpired(t.app.dataSource, LIMITS, { pauseMs: 0 })).toEqual({ signalReadings: 0, webhookEvents: 0, webhookRejections: 0, skipped: false });
  });

  it("never purges raw events under 7 days old, whatever the history limit", async () => {
    const vehicle = `retention-raw-${randomUUID()}`;
    const recent = await delivered(vehicle, 6.9, 1);
    const result = await purgeExpired(t.app.dataSource, { historyDays: 1, rawEventDays: 7 }, { pauseMs: 0 });
    expect(result.webhookEvents).toBe(0);
    expect(await rawEvents([recent.eventId])).toEqual([recent.eventId]);
    expect(() => loadConfig({ RAW_EVENT_RETENTION_DAYS: "6" })).toThrow(/RAW_EVENT_RETENTION_DAYS must be an integer from 7/);
    expect(() => loadConfig({ RAW_EVENT_RETENTION_DAYS: "7", HISTORY_RETENTION_DAYS: "0" })).toThrow(/HISTORY_RETENTION_DAYS/);
  });

  // Needs a second connection: the embedded database has one session (and serves one instance only).
  const withServer = process.env.DATABASE_URL ? it : it.skip;
  withServer("leaves the purge to the instance holding the lock", async () => {
    const vehicle = `retention-lock-${randomUUID()}`;
    const old = await delivered(vehicle, 50, 1);
    await delivered(vehicle, 0, 2);
    const other = t.app.dataSource.createQueryRunner();
    await other.connect();
    try {
      await other.query(`SELECT pg_advisory_lock(hashtext('fleetgraph retention'))`);
      expect(await purgeExpired(t.app.dataSource, LIMITS, { pauseMs: 0 })).toMatchObject({ signalReadings: 0, skipped: true });
      expect(await readingEvents(vehicle)).toContain(old.eventId);
    } finally {
      await other.query(`SELECT pg_advisory_unlock_all()`);
      await other.release();
    }
    expect(await purgeExpired(t.app.dataSource, LIMITS, { pauseMs: 0 })).toMatchObject({ signalReadings: 1, skipped: false });
  });

  it("runs in the background shortly after start and logs what it purged", async () => {
    const vehicle = `retention-job-${randomUUID()}`;
    await delivered(vehicle, 50, 1);
    await delivered(vehicle, 0, 2);
    const lines: string[] = [];
    const job = new RetentionJob({
      dataSource: () => t.app.dataSource,
      limits: LIMITS,
      logger: createLogger("info", { write: (line: string) => void lines.push(line) }),
      firstRunMs: 0,
    });
    job.start();
    try {
      for (let waited = 0; lines.length === 0 && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await job.stop();
    }
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ msg: "retention: purged expired rows", signalReadings: 1, webhookEvents: 1, webhookRejections: 0, skipped: false }),
    ]);
  });
});
