import { randomUUID } from "node:crypto";
import { ensureMonths, monthPartition } from "../../../src/signals/reading-partitions";
import { purgeExpired } from "../../../src/webhooks/retention";
import { reprocess } from "../../../src/webhooks/reprocess";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

/** The history is partitioned by month of receipt (README, "Retention and privacy"); retention drops whole months. */
const ODOMETER = "odometer-traveleddistance";

describe("history partitions", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });

  async function deliver(vehicleId: string, value: number, oemUpdatedAt: number): Promise<string> {
    const eventId = randomUUID();
    const payload = vehicleState({ vehicleId, userId: "user-p", eventId, signals: [{ code: ODOMETER, body: { value }, oemUpdatedAt }] });
    expect((await postDelivery(t.url, payload)).body).toMatchObject({ status: "applied" });
    return eventId;
  }

  /** Each reading of the vehicle: its event, id and the partition holding it. */
  async function readings(vehicleId: string): Promise<Array<{ event_id: string; id: string; partition: string }>> {
    return t.app.dataSource.query(
      `SELECT event_id, id::text AS id, tableoid::regclass::text AS partition FROM signal_readings WHERE vehicle_id = $1 ORDER BY observed_at`,
      [vehicleId],
    );
  }

  async function partitions(): Promise<string[]> {
    const rows: Array<{ name: string }> = await t.app.dataSource.query(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'signal_readings'::regclass ORDER BY 1`,
    );
    return rows.map((row) => row.name);
  }

  it("has this month and the two ahead from the start, and a DEFAULT partition", async () => {
    const now = new Date();
    const months = [0, 1, 2].map((n) => monthPartition(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + n, 1))).name);
    expect(await partitions()).toEqual(expect.arrayContaining([...months, "signal_readings_kept"]));
    const [{ strategy }] = await t.app.dataSource.query(
      `SELECT partstrat AS strategy FROM pg_partitioned_table WHERE partrelid = 'signal_readings'::regclass`,
    );
    expect(strategy).toBe("r");
  });

  it("lands a delivery in this month's partition and an archived one older than every month in the DEFAULT partition", async () => {
    const vehicleId = `partitions-${randomUUID()}`;
    const eventId = await deliver(vehicleId, 1, Date.now());
    expect(await readings(vehicleId)).toEqual([expect.objectContaining({ event_id: eventId, partition: monthPartition(new Date()).name })]);

    // The raw event dated back to 2019, then re-applied from the archive: its reading keeps that receipt.
    await t.app.dataSource.query(`UPDATE webhook_events SET received_at = '2019-06-01T00:00:00Z' WHERE event_id = $1`, [eventId]);
    await reprocess(t.app.dataSource, { from: new Date("2019-01-01T00:00:00Z"), to: new Date("2019-12-31T00:00:00Z"), dryRun: false });
    expect(await readings(vehicleId)).toEqual([expect.objectContaining({ event_id: eventId, partition: "signal_readings_kept" })]);
  });

  it("drops a month wholly past the limit, moving the readings latest values still record into the DEFAULT partition", async () => {
    expect(await ensureMonths(t.app.dataSource, new Date("2020-01-15T00:00:00Z"), 0)).toEqual({ created: ["signal_readings_p202001"], skipped: [] });
    const moving = `partitions-moving-${randomUUID()}`;
    const superseded = await deliver(moving, 100, Date.parse("2020-01-02T00:00:00Z"));
    const latest = await deliver(moving, 200, Date.parse("2020-01-03T00:00:00Z"));
    const silent = `partitions-silent-${randomUUID()}`;
    const only = await deliver(silent, 7, Date.parse("2020-01-04T00:00:00Z"));
    // Received in January 2020: the rows move to that month's partition.
    await t.app.dataSource.query(`UPDATE signal_readings SET applied_at = '2020-01-10T00:00:00Z' WHERE event_id = ANY($1)`, [
      [superseded, latest, only],
    ]);
    const before = [...(await readings(moving)), ...(await readings(silent))];
    expect(before.map((row) => row.partition)).toEqual(Array(3).fill("signal_readings_p202001"));

    const result = await purgeExpired(t.app.dataSource, { historyDays: 30, rawEventDays: undefined }, { pauseMs: 0 });

    expect(result).toEqual({ signalReadings: 1, webhookEvents: 0, webhookRejections: 0, skipped: false });
    expect(await partitions()).not.toContain("signal_readings_p202001");
    expect(await t.app.dataSource.query(`SELECT to_regclass('signal_readings_p202001') AS t`)).toEqual([{ t: null }]);
    // The kept readings keep their ids; the current months are untouched.
    expect(await readings(moving)).toEqual([{ ...before[1], partition: "signal_readings_kept" }]);
    expect(await readings(silent)).toEqual([{ ...before[2], partition: "signal_readings_kept" }]);
    expect(await partitions()).toContain(monthPartition(new Date()).name);

    // Once a newer value supersedes it, the kept reading goes row by row.
    await t.app.dataSource.query(`UPDATE signal_readings SET applied_at = '2020-01-10T00:00:00Z' WHERE event_id = $1`, [
      await deliver(moving, 300, Date.now()),
    ]);
    expect(await purgeExpired(t.app.dataSource, { historyDays: 30, rawEventDays: undefined }, { pauseMs: 0 })).toMatchObject({ signalReadings: 1 });
    expect((await readings(moving)).map((row) => row.partition)).toEqual(["signal_readings_kept"]);

    // A month whose readings already sit in the DEFAULT partition is left there, not created.
    expect(await ensureMonths(t.app.dataSource, new Date("2020-01-15T00:00:00Z"), 0)).toEqual({ created: [], skipped: ["signal_readings_p202001"] });
    expect((await readings(silent)).map((row) => row.partition)).toEqual(["signal_readings_kept"]);
  });

  // Two sessions at once: the embedded database has one.
  const withServer = process.env.DATABASE_URL ? it : it.skip;
  withServer("creates the coming months once when two instances do it at the same time", async () => {
    const other = await startTestApp();
    const future = new Date("2090-06-15T00:00:00Z");
    const created = await Promise.all([ensureMonths(t.app.dataSource, future), ensureMonths(other.app.dataSource, future)]);
    expect(created.flatMap((result) => result.created).sort()).toEqual(["signal_readings_p209006", "signal_readings_p209007", "signal_readings_p209008"]);
    const vehicleId = `partitions-future-${randomUUID()}`;
    const eventId = await deliver(vehicleId, 1, Date.now());
    await t.app.dataSource.query(`UPDATE signal_readings SET applied_at = '2090-07-02T00:00:00Z' WHERE event_id = $1`, [eventId]);
    expect((await readings(vehicleId)).map((row) => row.partition)).toEqual(["signal_readings_p209007"]);
  });
});
