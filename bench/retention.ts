/**
 * Retention of the history: purging an expired month of readings by dropping its partition (what the
 * service does) against the batched row-by-row DELETE it replaced (baseline), in the same run on the
 * same rows: time taken, WAL written (what replicas and backups must carry, and vacuum cleans after),
 * and the longest wait of an insert made meanwhile (a probe inserting one reading every 10 ms on its
 * own connection, as ingestion would).
 * The month holds READINGS readings of READINGS/100 vehicles; each vehicle's newest one is its latest
 * value, so both ways keep it.
 *
 *   npm run bench:retention                  # 1,000,000 readings
 *   READINGS=200000 npm run bench:retention
 *   BENCH_SMOKE=1 npm run bench:retention    # 20,000 readings; appends nothing
 *
 * The scratch database is dropped afterwards, even on failure.
 */
import { Client } from "pg";
import type { DataSource } from "typeorm";
import { createDataSource } from "../src/db/data-source";
import { ensureMonths } from "../src/signals/reading-partitions";
import { purgeExpired } from "../src/webhooks/retention";
import { exitOnError, knob, ratio, report, round, scratchDatabase } from "./support";

const READINGS = knob("READINGS", 1_000_000, 20_000);
const VEHICLES = Math.max(1, Math.round(READINGS / 100));
const BATCH = 5000;

exitOnError(async () => {
  const db = await scratchDatabase();
  const ds = createDataSource({ url: db.url, poolSize: 2 });
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: "each" });
    await ensureMonths(ds, new Date("2020-01-15T00:00:00Z"), 0);
    await ds.query(
      `INSERT INTO vehicles (id, first_seen_at, last_seen_at)
       SELECT 'v' || v, '2020-01-01', '2020-01-31' FROM generate_series(0, $1 - 1) AS v`,
      [VEHICLES],
    );
    // Received over January 2020; reading i belongs to vehicle i % VEHICLES.
    await ds.query(
      `INSERT INTO signal_readings (vehicle_id, code, body, value, unit, applied_at, observed_at, event_id, user_id, kind)
       SELECT 'v' || (i % $2), 'odometer-traveleddistance', jsonb_build_object('value', i, 'unit', 'km'), i, 'km',
              t, t, 'e' || i, 'user', 'NUMBER'
         FROM generate_series(0, $1 - 1) AS i, LATERAL (SELECT timestamptz '2020-01-01' + i * (interval '30 days' / $1) AS t) AS at`,
      [READINGS, VEHICLES],
    );
    await ds.query(
      `INSERT INTO signals (vehicle_id, code, body, value, unit, applied_at, observed_at, event_id, user_id, kind, last_read_at)
       SELECT DISTINCT ON (vehicle_id) vehicle_id, code, body, value, unit, applied_at, observed_at, event_id, user_id, kind, applied_at
         FROM signal_readings ORDER BY vehicle_id, observed_at DESC`,
    );
    // The baseline: the same rows in a table as the history was before partitioning (same key and indexes).
    await ds.query(`CREATE TABLE readings_unpartitioned (LIKE signal_readings INCLUDING ALL)`);
    await ds.query(`INSERT INTO readings_unpartitioned OVERRIDING SYSTEM VALUE SELECT * FROM signal_readings`);
    // Its own identity starts at 1: past the copied ids, or a probe row would share an id with a copied
    // reading, and the purge by id would take it too.
    const [{ next }] = await ds.query(`SELECT max(id) + 1 AS next FROM readings_unpartitioned`);
    await ds.query(`ALTER TABLE readings_unpartitioned ALTER COLUMN id RESTART WITH ${Number(next)}`);
    await ds.query(`VACUUM ANALYZE`);

    const rowByRow = await measure(ds, db.url, "readings_unpartitioned", async () => {
      let deleted = 0;
      for (;;) {
        const [, affected]: [unknown, number] = await ds.query(
          `DELETE FROM readings_unpartitioned WHERE id = ANY(ARRAY(
             SELECT r.id FROM readings_unpartitioned r
              WHERE r.applied_at < $1
                AND NOT EXISTS (SELECT 1 FROM signals s WHERE s.vehicle_id = r.vehicle_id AND s.code = r.code AND s.event_id = r.event_id)
              LIMIT $2))`,
          [new Date("2020-03-01"), BATCH],
        );
        deleted += affected;
        if (affected < BATCH) return deleted;
      }
    });
    const dropped = await measure(ds, db.url, "signal_readings", async () => {
      const result = await purgeExpired(ds, { historyDays: 30, rawEventDays: undefined }, { pauseMs: 0, now: new Date("2020-03-15") });
      return result.signalReadings;
    });
    if (rowByRow.rows !== dropped.rows || dropped.rows !== READINGS - VEHICLES) {
      throw new Error(`purged ${rowByRow.rows} row by row and ${dropped.rows} by month; expected ${READINGS - VEHICLES}`);
    }
    const [{ kept }] = await ds.query(`SELECT count(*)::int AS kept FROM signal_readings_kept`);
    if (kept !== VEHICLES) throw new Error(`kept ${kept} latest readings, expected ${VEHICLES}`);

    const note = (m: Measurement) =>
      `${round(m.ms)} ms, ${round(m.walBytes / 2 ** 20)} MiB WAL; inserts meanwhile: ${m.inserts}, longest ${round(m.longestInsertMs)} ms`;
    report("retention", `${READINGS} readings in one expired month, ${VEHICLES} kept (latest values)`, [
      { measured: "history purge: row by row, batches of 5,000 (before)", perSecond: Math.round(rowByRow.rows / (rowByRow.ms / 1000)), notes: note(rowByRow) },
      {
        measured: "history purge: month partition dropped",
        perSecond: Math.round(dropped.rows / (dropped.ms / 1000)),
        ratio: `before/after: ${ratio(rowByRow.ms, dropped.ms)} time, ${ratio(rowByRow.walBytes, Math.max(1, dropped.walBytes))} WAL`,
        notes: note(dropped),
      },
    ]);
  } finally {
    await ds.destroy();
  }
});

interface Measurement {
  readonly rows: number;
  readonly ms: number;
  readonly walBytes: number;
  readonly inserts: number;
  readonly longestInsertMs: number;
}

async function measure(ds: DataSource, url: string, table: string, purge: () => Promise<number>): Promise<Measurement> {
  await ds.query(`CHECKPOINT`); // full-page images count against whoever writes first after one
  const [{ lsn: before }] = await ds.query(`SELECT pg_current_wal_insert_lsn() AS lsn`);
  const probe = await insertProbe(url, table);
  const started = performance.now();
  const rows = await purge();
  const ms = performance.now() - started;
  const { inserts, longestMs } = await probe.stop();
  const [{ bytes }] = await ds.query(`SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::float8 AS bytes`, [before]);
  return { rows, ms, walBytes: bytes, inserts, longestInsertMs: longestMs };
}

/** Inserts a reading received now every 10 ms until stopped; the longest one's duration. */
async function insertProbe(url: string, table: string): Promise<{ stop(): Promise<{ inserts: number; longestMs: number }> }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  let stopped = false;
  let inserts = 0;
  let longestMs = 0;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      await client.query(
        `INSERT INTO ${table} (vehicle_id, code, body, applied_at, observed_at, event_id) VALUES ('v0', 'probe', '{}', now(), now(), 'probe')`,
      );
      longestMs = Math.max(longestMs, performance.now() - started);
      inserts++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await client.end();
      return { inserts, longestMs };
    },
  };
}
