import type { EntityManager } from "typeorm";
import { arrayLiteral } from "../db/array-literal";
import type { SignalChanged } from "../changes/change";
import { typedValue } from "./typed-value";

/** A good signal value. */
export interface SignalReadingInput {
  readonly code: string;
  readonly name: string | null;
  readonly group: string | null;
  readonly body: unknown;
  readonly value: number | null;
  readonly unit: string | null;
  /** null when Smartcar sent none or `0` (static attributes). */
  readonly oemUpdatedAt: Date | null;
  readonly retrievedAt: Date | null;
}

/** A signal Smartcar could not read (`status.value = "ERROR"`). */
export interface SignalErrorReport {
  readonly code: string;
  readonly name: string | null;
  readonly group: string | null;
  readonly errorType: string;
  readonly errorCode: string | null;
}

/** Where a signal value or error came from: its vehicle, the user it was delivered for, its delivery. */
export interface SignalSource {
  readonly vehicleId: string;
  /** Stored with the value, reading or error: only this user sees it (contract, Access). */
  readonly userId: string | null;
  readonly eventId: string;
  /** When fleetgraph applied it, with the vehicle's lock held: per vehicle, in commit order. */
  readonly appliedAt: Date;
}

export interface ReadingToApply extends SignalSource {
  readonly reading: SignalReadingInput;
}

export interface SignalErrorToApply extends SignalSource {
  readonly report: SignalErrorReport;
  /** When Smartcar tried to read the signal (the delivery's retrieval time). */
  readonly reportedAt: Date;
}

/** The ordering key of a value (contract, "Newest wins"): oemUpdatedAt, else retrievedAt, else when applied. */
export function observedAt(row: ReadingToApply): Date {
  return row.reading.oemUpdatedAt ?? row.reading.retrievedAt ?? row.appliedAt;
}

/** When Smartcar last read the signal successfully: what a signal error is compared with. */
function readAt(row: ReadingToApply): Date {
  return row.reading.retrievedAt ?? row.reading.oemUpdatedAt ?? row.appliedAt;
}

interface Latest {
  observedAt: number;
  eventId: string;
}

/** Strictly newer: a later `observedAt`, or the same instant from a greater event id (a stable tie-break). */
function isNewer(candidate: Latest, current: Latest | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.observedAt !== current.observedAt) return candidate.observedAt > current.observedAt;
  return candidate.eventId > current.eventId;
}

const keyOf = (vehicleId: string, code: string) => `${vehicleId}\u0000${code}`;

/**
 * Appends every reading to the history and moves a signal's latest value forward only for a newer
 * reading; an older one is kept in history marked late. Clears signal errors a later good read
 * supersedes. The caller holds the vehicles' row locks, so the latest values read here cannot change
 * before this transaction commits. Two statements, whatever the number of readings: the stored latest
 * values, then one statement whose parts (data-modifying CTEs) write history, latest values, last reads
 * and cleared errors from one copy of the readings (each part touches other rows: see `role`).
 * Returns the readings that became latest, in batch order.
 */
export async function applyReadings(manager: EntityManager, rows: readonly ReadingToApply[]): Promise<SignalChanged[]> {
  if (rows.length === 0) return [];
  const latest = await storedLatest(manager, rows);

  // Batch order is arrival order: each reading is compared with what was latest just before it.
  const late = rows.map((row) => {
    const key = keyOf(row.vehicleId, row.reading.code);
    const candidate = { observedAt: observedAt(row).getTime(), eventId: row.eventId };
    if (!isNewer(candidate, latest.get(key))) return true;
    latest.set(key, candidate);
    return false;
  });

  // Per signal: the newest reading of this batch, if it beat the stored one, becomes latest; else the
  // latest read (which late readings advance too) moves on alone. One reading per signal carries that
  // role, so no part of the statement touches a row twice (ON CONFLICT and UPDATE may not).
  const winners = new Map<string, number>();
  const lastRead = new Map<string, number>();
  rows.forEach((row, index) => {
    const key = keyOf(row.vehicleId, row.reading.code);
    if (!late[index]) winners.set(key, index);
    const seen = lastRead.get(key);
    if (seen === undefined || readAt(rows[seen]) < readAt(row)) lastRead.set(key, index);
  });
  const roles: Array<Role | null> = rows.map(() => null);
  const keyReadAt: Array<Date | null> = rows.map(() => null);
  for (const [key, read] of lastRead) {
    const winner = winners.get(key);
    roles[winner ?? read] = winner === undefined ? "read" : "latest";
    keyReadAt[winner ?? read] = readAt(rows[read]);
  }

  const inserted: Array<{ id: string }> = await manager.query(
    `WITH r AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::float8[], $7::text[],
                            $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::bool[], $13::text[],
                            $14::text[], ${TYPED_PARAMETERS}, $20::text[], $21::timestamptz[])
               WITH ORDINALITY AS r(vehicle_id, code, name, group_name, body, value, unit, retrieved_at, oem_updated_at,
                                    applied_at, observed_at, late, event_id, user_id, ${TYPED_COLUMNS}, role, last_read_at, ord)
     ),
     -- A successful read at or after an error's report means the signal works again (readAt's order).
     cleared AS (
       DELETE FROM signal_errors e USING r
        WHERE e.vehicle_id = r.vehicle_id AND e.code = r.code
          AND e.reported_at <= COALESCE(r.retrieved_at, r.oem_updated_at, r.applied_at)
     ),
     moved AS (
       INSERT INTO signals
         (vehicle_id, code, name, group_name, body, value, unit, retrieved_at, oem_updated_at, applied_at, observed_at,
          event_id, user_id, ${TYPED_COLUMNS}, last_read_at)
       SELECT r.vehicle_id, r.code, r.name, r.group_name, r.body, r.value, r.unit, r.retrieved_at, r.oem_updated_at,
              r.applied_at, r.observed_at, r.event_id, r.user_id, ${typedColumns("r")}, r.last_read_at
         FROM r WHERE r.role = 'latest'
       ON CONFLICT (vehicle_id, code) DO UPDATE SET
         name = EXCLUDED.name, group_name = EXCLUDED.group_name, body = EXCLUDED.body, value = EXCLUDED.value,
         unit = EXCLUDED.unit, kind = EXCLUDED.kind, value_boolean = EXCLUDED.value_boolean,
         value_text = EXCLUDED.value_text, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, retrieved_at = EXCLUDED.retrieved_at, oem_updated_at = EXCLUDED.oem_updated_at,
         applied_at = EXCLUDED.applied_at, observed_at = EXCLUDED.observed_at, event_id = EXCLUDED.event_id,
         user_id = EXCLUDED.user_id, last_read_at = GREATEST(signals.last_read_at, EXCLUDED.last_read_at)
       -- Belt and braces: never move a latest value backwards, whatever the caller's locking. Event ids
       -- compare bytewise (COLLATE "C"), as isNewer does, whatever the database's collation.
       WHERE (signals.observed_at, signals.event_id COLLATE "C") < (EXCLUDED.observed_at, EXCLUDED.event_id COLLATE "C")
     ),
     read AS (
       UPDATE signals s SET last_read_at = GREATEST(s.last_read_at, r.last_read_at)
         FROM r WHERE r.role = 'read' AND s.vehicle_id = r.vehicle_id AND s.code = r.code
     )
     INSERT INTO signal_readings
       (vehicle_id, code, name, group_name, body, value, unit, retrieved_at, oem_updated_at, applied_at, observed_at, late, event_id,
        user_id, ${TYPED_COLUMNS})
     SELECT r.vehicle_id, r.code, r.name, r.group_name, r.body, r.value, r.unit, r.retrieved_at, r.oem_updated_at,
            r.applied_at, r.observed_at, r.late, r.event_id, r.user_id, ${typedColumns("r")}
       FROM r
      ORDER BY r.ord
     RETURNING id`,
    [...readingColumns(rows, late), roles, keyReadAt].map(arrayLiteral),
  );
  const readingIds = idsInBatchOrder(inserted);

  return rows.flatMap((row, index): SignalChanged[] =>
    late[index]
      ? []
      : [{ kind: "signal", vehicleId: row.vehicleId, userId: row.userId, code: row.reading.code, readingId: readingIds[index] }],
  );
}

/** What a reading does to its signal's row besides history: becomes latest, or moves the latest read on. */
type Role = "latest" | "read";

/**
 * RETURNING order is not promised by PostgreSQL, but identity values are drawn as the rows are
 * inserted, in the SELECT's ORDER BY: sorted ids are batch order.
 */
function idsInBatchOrder(inserted: ReadonlyArray<{ id: string }>): string[] {
  return inserted.map((row) => BigInt(row.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
}

async function storedLatest(manager: EntityManager, rows: readonly ReadingToApply[]): Promise<Map<string, Latest>> {
  const stored: Array<{ vehicle_id: string; code: string; observed_at: Date; event_id: string }> = await manager.query(
    `SELECT s.vehicle_id, s.code, s.observed_at, s.event_id
       FROM signals s
       JOIN unnest($1::text[], $2::text[]) AS k(vehicle_id, code) ON s.vehicle_id = k.vehicle_id AND s.code = k.code`,
    [arrayLiteral(rows.map((row) => row.vehicleId)), arrayLiteral(rows.map((row) => row.reading.code))],
  );
  return new Map(
    stored.map((row) => [keyOf(row.vehicle_id, row.code), { observedAt: new Date(row.observed_at).getTime(), eventId: row.event_id }]),
  );
}

/** The typed value columns (typedValue), parameters $15 to $19 of both inserts. */
const TYPED_COLUMNS = "kind, value_boolean, value_text, latitude, longitude";
const TYPED_PARAMETERS = "$15::text[], $16::bool[], $17::text[], $18::float8[], $19::float8[]";
const typedColumns = (alias: string) => TYPED_COLUMNS.split(", ").map((column) => `${alias}.${column}`).join(", ");

/** The readings' columns, $1 to $19, as arrays (arrayLiteral makes the parameters). */
function readingColumns(rows: readonly ReadingToApply[], late: readonly boolean[]): Array<ReadonlyArray<string | number | boolean | Date | null>> {
  const typed = rows.map((row) => typedValue(row.reading.body));
  return [
    rows.map((row) => row.vehicleId),
    rows.map((row) => row.reading.code),
    rows.map((row) => row.reading.name),
    rows.map((row) => row.reading.group),
    // jsonb[] elements travel as JSON text (a reading always has a body: see normalizeVehicleState).
    rows.map((row) => JSON.stringify(row.reading.body ?? null)),
    rows.map((row) => row.reading.value),
    rows.map((row) => row.reading.unit),
    rows.map((row) => row.reading.retrievedAt),
    rows.map((row) => row.reading.oemUpdatedAt),
    rows.map((row) => row.appliedAt),
    rows.map((row) => observedAt(row)),
    [...late],
    rows.map((row) => row.eventId),
    rows.map((row) => row.userId),
    typed.map((value) => value.kind),
    typed.map((value) => value.boolean),
    typed.map((value) => value.text),
    typed.map((value) => value.location?.latitude ?? null),
    typed.map((value) => value.location?.longitude ?? null),
  ];
}

/**
 * Records signals Smartcar could not read. An error no newer than the last successful read of the
 * same signal is history, not current, and is not recorded; the last good value stays as it is.
 * Together with the clearing in applyReadings this makes the final errors independent of arrival order.
 */
export async function applySignalErrors(manager: EntityManager, rows: readonly SignalErrorToApply[]): Promise<void> {
  if (rows.length === 0) return;
  // One row per signal (ON CONFLICT may touch a row once per statement): the newest report wins.
  const newest = new Map<string, SignalErrorToApply>();
  for (const row of rows) {
    const key = keyOf(row.vehicleId, row.report.code);
    const seen = newest.get(key);
    if (!seen || seen.reportedAt.getTime() <= row.reportedAt.getTime()) newest.set(key, row);
  }
  const unique = [...newest.values()];
  await manager.query(
    `INSERT INTO signal_errors
       (vehicle_id, code, name, group_name, error_type, error_code, first_seen_at, last_seen_at, reported_at, event_id, user_id)
     SELECT f.vehicle_id, f.code, f.name, f.group_name, f.error_type, f.error_code, f.reported_at, f.reported_at,
            f.reported_at, f.event_id, f.user_id
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[])
            AS f(vehicle_id, code, name, group_name, error_type, error_code, reported_at, event_id, user_id)
      WHERE NOT EXISTS (
              SELECT 1 FROM signals s
               WHERE s.vehicle_id = f.vehicle_id AND s.code = f.code AND s.last_read_at >= f.reported_at)
     ON CONFLICT (vehicle_id, code) DO UPDATE SET
       name = COALESCE(EXCLUDED.name, signal_errors.name),
       group_name = COALESCE(EXCLUDED.group_name, signal_errors.group_name),
       error_type = EXCLUDED.error_type,
       error_code = EXCLUDED.error_code,
       -- Another user's error starts afresh: nothing of the previous user's shows through.
       first_seen_at = CASE WHEN signal_errors.user_id IS NOT DISTINCT FROM EXCLUDED.user_id
                            THEN LEAST(signal_errors.first_seen_at, EXCLUDED.first_seen_at) ELSE EXCLUDED.first_seen_at END,
       last_seen_at = CASE WHEN signal_errors.user_id IS NOT DISTINCT FROM EXCLUDED.user_id
                           THEN GREATEST(signal_errors.last_seen_at, EXCLUDED.last_seen_at) ELSE EXCLUDED.last_seen_at END,
       reported_at = EXCLUDED.reported_at,
       event_id = EXCLUDED.event_id,
       user_id = EXCLUDED.user_id
     WHERE signal_errors.reported_at <= EXCLUDED.reported_at`,
    [
      unique.map((row) => row.vehicleId),
      unique.map((row) => row.report.code),
      unique.map((row) => row.report.name),
      unique.map((row) => row.report.group),
      unique.map((row) => row.report.errorType),
      unique.map((row) => row.report.errorCode),
      unique.map((row) => row.reportedAt.toISOString()),
      unique.map((row) => row.eventId),
      unique.map((row) => row.userId),
    ],
  );
}
