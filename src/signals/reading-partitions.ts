import type { DataSource, EntityManager } from "typeorm";

/**
 * The history (`signal_readings`) is partitioned by month of `applied_at` (migration
 * PartitionSignalReadings), so retention drops a month at a time instead of deleting row by row.
 *
 * - `signal_readings_pYYYYMM` holds the readings received in that UTC month. The service creates the
 *   current month and MONTHS_AHEAD more at start and on every retention run, so live ingestion
 *   (received now) always has its partition; two months of slack cover a missed run or a lock timeout.
 * - `signal_readings_kept` is the DEFAULT partition. It takes what no month holds: readings still
 *   referenced by a latest value when their month is dropped (moved there, so they stay in the same
 *   table and every query keeps finding them), and readings re-applied from the archive (reprocess)
 *   with a receipt older than the oldest month. It is small (at most a few readings per signal) and
 *   purged row by row. Its cost: DETACH … CONCURRENTLY is refused while a DEFAULT partition exists,
 *   and creating a month scans it; both are bounded (see dropOldestExpiredMonth and ensureMonths).
 *
 * Months rather than weeks or days: queries by observation time (history pages, `asOf`, series, a
 * user's own latest values) cannot prune by receipt and probe every partition's index, so few
 * partitions keep them fast. The price: a reading may outlive HISTORY_RETENTION_DAYS by up to a month.
 * Months are named, and bounded, in UTC; the names are the catalogue of what exists.
 */
export const KEPT_PARTITION = "signal_readings_kept";
const MONTH_NAME = /^signal_readings_p(\d{4})(\d{2})$/;
const MONTHS_AHEAD = 2;

/** Held while months are created or dropped: one instance at a time changes the partitions. */
const PARTITIONS_LOCK = `SELECT pg_advisory_xact_lock(hashtext('fleetgraph reading partitions'))`;
/**
 * Creating or dropping a partition takes an ACCESS EXCLUSIVE lock on `signal_readings`. Waiting for it
 * behind a long transaction would queue every ingestion behind us: give up after this and retry on
 * the next run instead.
 */
const LOCK_TIMEOUT = `SET LOCAL lock_timeout = '2s'`;

/** A month partition: its name and [from, to) in UTC. */
export interface MonthPartition {
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
}

export function monthPartition(instant: Date): MonthPartition {
  const year = instant.getUTCFullYear();
  const month = instant.getUTCMonth();
  return {
    name: `signal_readings_p${year}${String(month + 1).padStart(2, "0")}`,
    from: new Date(Date.UTC(year, month, 1)),
    to: new Date(Date.UTC(year, month + 1, 1)),
  };
}

/** The month partitions that exist, oldest first. */
export async function listMonths(manager: DataSource | EntityManager): Promise<MonthPartition[]> {
  const rows: Array<{ name: string }> = await manager.query(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'signal_readings'::regclass`,
  );
  return rows
    .flatMap(({ name }) => {
      const match = MONTH_NAME.exec(name);
      return match ? [monthPartition(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)))] : [];
    })
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}

/** What ensureMonths did: months created, and months left to the DEFAULT partition (see there). */
export interface EnsuredMonths {
  readonly created: string[];
  readonly skipped: string[];
}

/**
 * Creates the month partitions from `now`'s month through MONTHS_AHEAD more that do not exist yet.
 * Safe with several instances (an advisory lock; the later one finds them made). Creating a month
 * scans the DEFAULT partition for rows of that month; normally there are none (live readings arrive
 * in months made ahead). If some are there (the service made no month for over two months), that month
 * is skipped rather than failing: its readings stay in the DEFAULT partition, purged row by row.
 */
export async function ensureMonths(dataSource: DataSource, now: Date = new Date(), monthsAhead = MONTHS_AHEAD): Promise<EnsuredMonths> {
  const wanted = Array.from({ length: monthsAhead + 1 }, (_, n) =>
    monthPartition(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + n, 1))),
  );
  const existing = new Set((await listMonths(dataSource)).map((month) => month.name));
  if (wanted.every((month) => existing.has(month.name))) return { created: [], skipped: [] }; // the usual case: no lock taken
  return dataSource.transaction(async (manager) => {
    await manager.query(PARTITIONS_LOCK);
    const present = new Set((await listMonths(manager)).map((month) => month.name));
    await manager.query(LOCK_TIMEOUT);
    const result: EnsuredMonths = { created: [], skipped: [] };
    for (const month of wanted) {
      if (present.has(month.name)) continue;
      const [{ taken }]: Array<{ taken: boolean }> = await manager.query(
        `SELECT EXISTS (SELECT 1 FROM ${KEPT_PARTITION} WHERE applied_at >= $1 AND applied_at < $2) AS taken`,
        [month.from, month.to],
      );
      if (taken) {
        result.skipped.push(month.name);
        continue;
      }
      await manager.query(
        `CREATE TABLE "${month.name}" PARTITION OF signal_readings FOR VALUES FROM ('${month.from.toISOString()}') TO ('${month.to.toISOString()}')`,
      );
      result.created.push(month.name);
    }
    return result;
  });
}

/** A reading the latest value (`signals`) still records: retention keeps it (see purgeExpired). */
export const REFERENCED = (alias: string) =>
  `EXISTS (SELECT 1 FROM signals s WHERE s.vehicle_id = ${alias}.vehicle_id AND s.code = ${alias}.code AND s.event_id = ${alias}.event_id)`;

/**
 * Drops the oldest month partition if it lies wholly before `before`: detach it, move its readings
 * still recorded by a latest value into the DEFAULT partition (no month holds their range any more, so
 * inserting them through the parent lands them there, ids kept), drop it. The month is read (count,
 * referenced readings) before `signal_readings` is locked, under a SHARE lock on the month alone, which
 * only an archive re-apply would wait for; the ACCESS EXCLUSIVE lock that detaching takes then lasts
 * for the catalogue changes and copying the few referenced readings. Returns the readings dropped, or
 * undefined when no month is due.
 */
export async function dropOldestExpiredMonth(manager: EntityManager, before: Date): Promise<number | undefined> {
  await manager.query(PARTITIONS_LOCK);
  const [oldest] = await listMonths(manager);
  if (!oldest || oldest.to > before) return undefined;
  await manager.query(LOCK_TIMEOUT);
  // No reading enters the month from here on, so what it holds, and which of it is referenced, stays put
  // (a latest value only ever moves to a newer reading, received now, in another month).
  await manager.query(`LOCK TABLE "${oldest.name}" IN SHARE MODE`);
  const [{ count }]: Array<{ count: string }> = await manager.query(`SELECT count(*) AS count FROM "${oldest.name}"`);
  await manager.query(`CREATE TEMPORARY TABLE month_kept ON COMMIT DROP AS SELECT r.* FROM "${oldest.name}" r WHERE ${REFERENCED("r")}`);
  await manager.query(`ALTER TABLE signal_readings DETACH PARTITION "${oldest.name}"`);
  const [{ kept }]: Array<{ kept: string }> = await manager.query(
    `WITH moved AS (INSERT INTO signal_readings OVERRIDING SYSTEM VALUE SELECT * FROM month_kept RETURNING 1)
     SELECT count(*) AS kept FROM moved`,
  );
  await manager.query(`DROP TABLE "${oldest.name}"`);
  return Number(count) - Number(kept);
}
