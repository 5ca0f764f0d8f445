import { startTestApp } from "../../helpers/test-app";

describe("migrations", () => {
  it("create exactly the schema the entities describe (else: npm run migration:generate -- migrations/Name)", async () => {
    const { app } = await startTestApp();
    const pending = await app.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it("can be reverted and applied again", async () => {
    const { app } = await startTestApp();
    const applied = await app.dataSource.query<unknown[]>("SELECT * FROM migrations");
    for (let i = 0; i < applied.length; i++) await app.dataSource.undoLastMigration({ transaction: "each" });
    expect(await app.dataSource.query("SELECT to_regclass('public.vehicles') AS t")).toEqual([{ t: null }]);
    await app.dataSource.runMigrations({ transaction: "each" });
    expect(await app.dataSource.showMigrations()).toBe(false);
  });

  it("partition the history keeping every reading, its id and the id sequence (PartitionSignalReadings)", async () => {
    const { app } = await startTestApp();
    const ds = app.dataSource;
    // Back to before it (and the migrations after it), when the column was still received_at.
    const last = await ds.query<Array<{ name: string }>>(`SELECT name FROM migrations ORDER BY id DESC LIMIT 3`);
    expect(last.map((row) => row.name)).toEqual([
      "ReadingsWithoutForeignKey1796500000000",
      "AppliedAt1796400000000",
      "PartitionSignalReadings1796300000000",
    ]);
    for (let i = 0; i < last.length; i++) await ds.undoLastMigration({ transaction: "each" });
    expect(await ds.query(`SELECT relkind FROM pg_class WHERE relname = 'signal_readings'`)).toEqual([{ relkind: "r" }]);

    await ds.query(`INSERT INTO vehicles (id, first_seen_at, last_seen_at) VALUES ('v-migrated', now(), now())`);
    const columns = `vehicle_id, code, body, value, received_at, observed_at, event_id, user_id, kind`;
    await ds.query(
      `INSERT INTO signal_readings (${columns}) VALUES
         ('v-migrated', 'odometer', '{"value": 1}', 1, '2025-03-04T05:06:07Z', '2025-03-04T05:06:07Z', 'e1', 'u1', 'NUMBER'),
         ('v-migrated', 'odometer', '{"value": 2}', 2, now(), now(), 'e2', 'u1', 'NUMBER')`,
    );
    await ds.query(`SELECT nextval('signal_readings_id_seq') FROM generate_series(1, 5)`); // ids drawn and never stored
    const rows = `SELECT id::text, ${columns} FROM signal_readings ORDER BY id`;
    const before = await ds.query(rows);
    const [{ next }] = await ds.query(`SELECT last_value + 1 AS next FROM signal_readings_id_seq`);

    await ds.runMigrations({ transaction: "each" });

    expect(await ds.query(`SELECT relkind FROM pg_class WHERE relname = 'signal_readings'`)).toEqual([{ relkind: "p" }]);
    expect(await ds.query(rows.replace("received_at", "applied_at AS received_at"))).toEqual(before);
    const placed: Array<{ partition: string }> = await ds.query(`SELECT tableoid::regclass::text AS partition FROM signal_readings ORDER BY id`);
    expect(placed[0].partition).toBe("signal_readings_p202503");
    expect(placed[1].partition).toMatch(/^signal_readings_p\d{6}$/);
    const [{ id }] = await ds.query(
      `INSERT INTO signal_readings (${columns.replace("received_at", "applied_at")}) VALUES ('v-migrated', 'odometer', '{"value": 3}', 3, now(), now(), 'e3', 'u1', 'NUMBER') RETURNING id`,
    );
    expect(String(id)).toBe(String(next));
  });
});
