import { Client } from "pg";
import { buildOnce, runCli } from "../helpers/cli-process";
import { postDelivery, vehicleError, vehicleState } from "../helpers/smartcar";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { describeOnPostgres } from "../helpers/test-database";

const T0 = Date.parse("2026-11-02T10:00:00Z");
const minutes = (n: number) => T0 + n * 60_000;

/** What a user of the API sees of the derived tables; ids and the apply's own clock (stamps, not data) left out. */
const SNAPSHOT = {
  vehicles: `SELECT id, user_id, owner_read_at, owner_event_id FROM vehicles ORDER BY id`,
  signals: `SELECT vehicle_id, code, body, value, kind, value_boolean, value_text, observed_at, oem_updated_at, retrieved_at,
                   last_read_at, event_id, user_id FROM signals ORDER BY vehicle_id, code`,
  signal_readings: `SELECT vehicle_id, code, body, value, observed_at, late, event_id, user_id FROM signal_readings
                     ORDER BY vehicle_id, code, observed_at, event_id`,
  signal_errors: `SELECT vehicle_id, code, error_type, error_code, first_seen_at, last_seen_at, reported_at, event_id, user_id
                    FROM signal_errors ORDER BY vehicle_id, code`,
  vehicle_issues: `SELECT issue_key, state, description, opened_at, resolved_at, last_seen_at, reopen_count, occurrences,
                          reported_at, event_id FROM vehicle_issues ORDER BY issue_key`,
  vehicle_issue_changes: `SELECT c.vehicle_id, i.issue_key, c.state, c.change, c.event_id FROM vehicle_issue_changes c
                            JOIN vehicle_issues i ON i.id = c.issue_id ORDER BY i.issue_key, c.id`,
};

describeOnPostgres("fleetgraph reprocess", "the embedded test database serves one connection: the app's", () => {
  let app: TestApp;
  let db: Client;
  const env = () => ({ DATABASE_URL: app.database.url });

  async function snapshot(): Promise<Record<string, unknown[]>> {
    const result: Record<string, unknown[]> = {};
    for (const [table, sql] of Object.entries(SNAPSHOT)) result[table] = (await db.query(sql)).rows;
    return result;
  }
  const count = async (table: string) => Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);

  /** A vehicle's life: values in and out of order, a signal error later cleared, an issue opened, resolved, reopened. */
  const deliveries = [
    vehicleState({ eventId: "e01", vehicleId: "car-a", userId: "u1", deliveredAt: minutes(0), signals: [
      { code: "tractionbattery-stateofcharge", body: { value: 40, unit: "percent" }, oemUpdatedAt: minutes(0) },
      { code: "closure-islocked", body: { value: true } },
    ] }),
    vehicleState({ eventId: "e02", vehicleId: "car-a", userId: "u1", deliveredAt: minutes(10), signals: [
      { code: "tractionbattery-stateofcharge", body: { value: 55, unit: "percent" }, oemUpdatedAt: minutes(10) },
      { code: "odometer-traveleddistance", error: { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE" } },
    ] }),
    // Late: older than e02's value, so history only.
    vehicleState({ eventId: "e03", vehicleId: "car-a", userId: "u1", deliveredAt: minutes(5), signals: [
      { code: "tractionbattery-stateofcharge", body: { value: 47, unit: "percent" }, oemUpdatedAt: minutes(5) },
    ] }),
    vehicleError({ eventId: "e04", vehicleId: "car-a", userId: "u1", deliveredAt: minutes(11), errors: [
      { type: "CONNECTED_SERVICES_ACCOUNT", code: "VEHICLE_MISSING", state: "ERROR" },
    ] }),
    vehicleState({ eventId: "e05", vehicleId: "car-b", userId: "u2", deliveredAt: minutes(12), signals: [
      { code: "location-preciselocation", body: { latitude: 48.85, longitude: 2.35, heading: 90 } },
    ] }),
    vehicleError({ eventId: "e06", vehicleId: "car-a", userId: "u1", deliveredAt: minutes(20), errors: [
      { type: "CONNECTED_SERVICES_ACCOUNT", code: "VEHICLE_MISSING", state: "RESOLVED" },
    ] }),
    vehicleState({ eventId: "e07", vehicleId: "car-a", userId: "u1", deliveredAt: minutes(30), signals: [
      { code: "odometer-traveleddistance", body: { value: 1200, unit: "km" }, oemUpdatedAt: minutes(30) },
      { code: "tractionbattery-stateofcharge", body: { value: 60, unit: "percent" }, oemUpdatedAt: minutes(30) },
      { code: "charge-chargelimits", error: { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE" } },
    ] }),
    vehicleError({ eventId: "e08", vehicleId: "car-a", userId: "u1", deliveredAt: minutes(40), errors: [
      { type: "CONNECTED_SERVICES_ACCOUNT", code: "VEHICLE_MISSING", state: "ERROR" },
    ] }),
  ];
  let fresh: Record<string, unknown[]>;

  beforeAll(async () => {
    buildOnce();
    app = await startTestApp();
    for (const delivery of deliveries) {
      expect(await postDelivery(app.url, delivery)).toMatchObject({ status: 200, body: { status: "applied" } });
    }
    db = new Client({ connectionString: app.database.url });
    await db.connect();
    fresh = await snapshot();
  }, 120_000);
  afterAll(async () => {
    await db?.end();
  });

  async function tamper(): Promise<void> {
    await db.query(`DELETE FROM signal_readings WHERE event_id = 'e03'`);
    await db.query(`UPDATE signals SET body = '{"value": 1}', value = 1 WHERE code = 'tractionbattery-stateofcharge'`);
    await db.query(`DELETE FROM vehicle_issues`); // and their changes, by cascade
    await db.query(
      `INSERT INTO signal_errors (vehicle_id, code, error_type, error_code, first_seen_at, last_seen_at, reported_at, event_id, user_id)
       VALUES ('car-b', 'closure-islocked', 'UPSTREAM', 'UNKNOWN', now(), now(), now(), 'bogus', 'u2')`,
    );
    await db.query(`UPDATE vehicles SET user_id = 'someone-else' WHERE id = 'car-b'`);
  }

  it("--dry-run changes nothing and reports the rows per table it would leave", async () => {
    await tamper();
    const tampered = await snapshot();
    expect(tampered).not.toEqual(fresh);

    const result = await runCli(["reprocess", "--dry-run"], env());
    expect(result.stderr).toMatch(/reprocess: 2\/2 vehicles, 8 events \(dry run\)/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/dry run, rolled back: would reprocess 8 events of 2 vehicles/);
    // before: the tampered rows; after: what a fresh apply leaves.
    expect(result.stdout).toMatch(new RegExp(`^signal_readings +${fresh.signal_readings.length - 1} +${fresh.signal_readings.length}$`, "m"));
    expect(result.stdout).toMatch(new RegExp(`^signal_errors +${fresh.signal_errors.length + 1} +${fresh.signal_errors.length}$`, "m"));
    expect(result.stdout).toMatch(new RegExp(`^vehicle_issues +0 +${fresh.vehicle_issues.length}$`, "m"));
    expect(result.stdout).toMatch(/^events that no longer parse: 0$/m);
    expect(await snapshot()).toEqual(tampered);
  });

  it("restores what a fresh apply gives, and keeps the archive as it was", async () => {
    const events = (await db.query(`SELECT event_id, raw_body, received_at, attempts FROM webhook_events ORDER BY id`)).rows;
    const result = await runCli(["reprocess"], env());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^reprocessed 8 events of 2 vehicles/m);
    expect(await snapshot()).toEqual(fresh);
    expect((await db.query(`SELECT event_id, raw_body, received_at, attempts FROM webhook_events ORDER BY id`)).rows).toEqual(events);
    // Sanity: the fixture exercises every table.
    for (const rows of Object.values(fresh)) expect(rows.length).toBeGreaterThan(0);
  });

  it("rebuilds from the raw bodies as they are now, and names the events that no longer parse", async () => {
    const changed = JSON.parse(JSON.stringify(deliveries[6])) as { data: { signals: Array<{ body: { value: number } }> } };
    changed.data.signals[1].body.value = 61;
    await db.query(`UPDATE webhook_events SET raw_body = $1 WHERE event_id = 'e07'`, [Buffer.from(JSON.stringify(changed))]);
    await db.query(`UPDATE webhook_events SET raw_body = $1 WHERE event_id = 'e05'`, [Buffer.from(`{"eventType":"VEHICLE_STATE"}`)]);

    const result = await runCli(["reprocess", "--from", new Date(Date.now() - 3_600_000).toISOString()], env());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^events that no longer parse: 1$/m);
    expect(result.stdout).toMatch(/^ {2}e05: /m);
    const soc = await db.query(`SELECT value FROM signals WHERE vehicle_id = 'car-a' AND code = 'tractionbattery-stateofcharge'`);
    expect(soc.rows).toEqual([{ value: 61 }]);
    expect(await count(`signal_readings WHERE vehicle_id = 'car-b'`)).toBe(0);
    expect(await count(`signals WHERE vehicle_id = 'car-b'`)).toBe(0);
  });

  it("touches only the vehicles with events in the range", async () => {
    await db.query(`UPDATE signals SET value = 2 WHERE vehicle_id = 'car-a' AND code = 'odometer-traveleddistance'`);
    const result = await runCli(["reprocess", "--from", "2000-01-01T00:00:00Z", "--to", "2000-01-02T00:00:00Z"], env());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^reprocessed 0 events of 0 vehicles/m);
    expect((await db.query(`SELECT value FROM signals WHERE vehicle_id = 'car-a' AND code = 'odometer-traveleddistance'`)).rows).toEqual([
      { value: 2 },
    ]);
  });

  it("refuses without DATABASE_URL, saying why the embedded DATA_DIR is out of reach; and explains its options", async () => {
    const [missing, backwards, help] = await Promise.all([
      runCli(["reprocess"]),
      runCli(["reprocess", "--from", "2026-11-02T00:00:00Z", "--to", "2026-11-01T00:00:00Z"], env()),
      runCli(["reprocess", "--help"]),
    ]);
    expect(missing).toMatchObject({ code: 78, stdout: "" });
    expect(missing.stderr).toMatch(/DATABASE_URL is not set/);
    expect(missing.stderr).toMatch(/DATA_DIR is locked while the service runs/);
    expect(backwards).toMatchObject({ code: 2 });
    expect(backwards.stderr).toMatch(/--from must be before --to/);
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining("fleetgraph reprocess [--from <time>] [--to <time>] [--dry-run]") });
  });
});
