import type { DataSource } from "typeorm";
import { readRows } from "../db/data-source";
import { SortDirection } from "../graphql/connection";
import type { CursorKey } from "../graphql/cursor";
import { SignalError } from "./signal-error.entity";
import { SignalReading } from "./signal-reading.entity";
import { Signal } from "./signal.entity";

/** One signal of one vehicle. */
export interface SignalKey {
  readonly vehicleId: string;
  readonly code: string;
}

export interface HistoryRange {
  /** Inclusive. */
  readonly from?: Date | null;
  /** Exclusive. */
  readonly to?: Date | null;
}

export interface HistoryPageRequest extends HistoryRange {
  readonly first: number;
  readonly after?: CursorKey;
  readonly direction: SortDirection;
}

export interface SeriesRequest {
  readonly from: Date;
  readonly to: Date;
  readonly intervalSeconds: number;
  /** Buckets from `from` on (see bucketCount in series-interval.ts). */
  readonly buckets: number;
}

export interface HistoryRow {
  readonly node: SignalReading;
  readonly key: CursorKey;
}

/** One time bucket of a numeric signal; the value fields are null for a bucket without readings. */
export interface SeriesRow {
  readonly start: Date;
  readonly count: number;
  readonly first: number | null;
  readonly last: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly avg: number | null;
}

/**
 * A timestamp as epoch milliseconds: pg's text parsing of timestamptz was most of the cost of a
 * 100-vehicle page (1,000 rows × 4 timestamps); a float and `new Date(ms)` are several times cheaper.
 * The values are written from JavaScript dates, so no precision is lost.
 */
const epochMs = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

type TimesAsMs<T> = { [K in keyof T]: T[K] extends Date ? number : T[K] extends Date | null ? number | null : T[K] };
type ValueRow = TimesAsMs<Pick<Signal, "vehicleId" | "code" | "name" | "group" | "body" | "value" | "unit" | "retrievedAt" | "oemUpdatedAt" | "appliedAt" | "observedAt" | "eventId">>;
/** A column of a value (of `signals` or `signal_readings`), by its entity property name. */
export type ValueColumn = keyof ValueRow;

/** Each value column in SQL, of the table aliased `t`, under its property name (times as epochMs). */
const COLUMN_SQL: Record<ValueColumn, (t: string) => string> = {
  vehicleId: (t) => `${t}.vehicle_id AS "vehicleId"`,
  code: (t) => `${t}.code`,
  name: (t) => `${t}.name`,
  group: (t) => `${t}.group_name AS "group"`,
  body: (t) => `${t}.body`,
  value: (t) => `${t}.value`,
  unit: (t) => `${t}.unit`,
  retrievedAt: (t) => `${epochMs(`${t}.retrieved_at`)} AS "retrievedAt"`,
  oemUpdatedAt: (t) => `${epochMs(`${t}.oem_updated_at`)} AS "oemUpdatedAt"`,
  appliedAt: (t) => `${epochMs(`${t}.applied_at`)} AS "appliedAt"`,
  observedAt: (t) => `${epochMs(`${t}.observed_at`)} AS "observedAt"`,
  eventId: (t) => `${t}.event_id AS "eventId"`,
};
const ALL_COLUMNS = Object.keys(COLUMN_SQL) as ValueColumn[];

/** The value columns of `t` (all, or only `columns`, in one fixed order so UNION arms agree). */
const VALUE_COLUMNS = (t: string, columns?: ReadonlySet<ValueColumn>) =>
  ALL_COLUMNS.filter((column) => !columns || columns.has(column))
    .map((column) => COLUMN_SQL[column](t))
    .join(", ");

/**
 * Fills `target` from a VALUE_COLUMNS row, turning the epoch milliseconds back into dates. A row of
 * some columns only (see latestSql) fills only those.
 */
function hydrate<T extends Signal | SignalReading>(target: T, row: Partial<ValueRow>): T {
  Object.assign(target, row);
  if (row.retrievedAt !== undefined) target.retrievedAt = row.retrievedAt === null ? null : new Date(row.retrievedAt);
  if (row.oemUpdatedAt !== undefined) target.oemUpdatedAt = row.oemUpdatedAt === null ? null : new Date(row.oemUpdatedAt);
  if (row.appliedAt !== undefined) target.appliedAt = new Date(row.appliedAt);
  if (row.observedAt !== undefined) target.observedAt = new Date(row.observedAt);
  return target;
}

/**
 * `AND <alias>.user_id = $n` when reads are limited to one user's rows (contract, Access: every value,
 * reading and signal error keeps the user it was delivered for), else nothing. A user-limited query
 * then plans with the user's indexes.
 */
function onlyUser(alias: string, scope: string | undefined, parameter: number): string {
  return scope === undefined ? "" : `AND ${alias}.user_id = $${parameter}`;
}

/** The parameters a query ends with for onlyUser. */
const scopeParameters = (scope: string | undefined): string[] => (scope === undefined ? [] : [scope]);

/**
 * The latest good values (VALUE_COLUMNS rows, unordered; only `columns` when given) of the vehicles whose id is `= <vehicles>`
 * (`ANY($1)`, or a vehicle row's `v.id`). For a user (`scope`: the SQL parameter holding their id),
 * their own latest: the stored latest value where it was delivered for them, else their newest
 * reading of that signal (another user's value can be newer by the car's clock, e.g. a previous
 * owner's late delivery); rows of other users are the exception, so this costs one index probe for
 * each of those only.
 */
export function latestSql(vehicles: string, scope: string | undefined, columns?: ReadonlySet<ValueColumn>): string {
  if (scope === undefined) return `SELECT ${VALUE_COLUMNS("s", columns)} FROM signals s WHERE s.vehicle_id = ${vehicles}`;
  return `SELECT ${VALUE_COLUMNS("s", columns)} FROM signals s WHERE s.vehicle_id = ${vehicles} AND s.user_id = ${scope}
          UNION ALL
          SELECT h.*
            FROM signals s
            CROSS JOIN LATERAL (
              SELECT ${VALUE_COLUMNS("r", columns)}
                FROM signal_readings r
               WHERE r.user_id = ${scope} AND r.vehicle_id = s.vehicle_id AND r.code = s.code
               ORDER BY r.observed_at DESC, r.event_id DESC, r.id DESC
               LIMIT 1
            ) h
           WHERE s.vehicle_id = ${vehicles} AND s.user_id IS DISTINCT FROM ${scope}`;
}

const TIMES = ["retrievedAt", "oemUpdatedAt", "appliedAt", "observedAt"] as const;

/**
 * Signals of vehicle `vehicleId` from a JSON array of VALUE_COLUMNS rows (latestSql's rows aggregated by
 * json_agg), with only the columns asked for (the vehicle's id is set here, not repeated in the JSON).
 * The parsed objects themselves are the values (their times made dates in place): GraphQL reads their
 * properties and nothing asks for the class, and a page holds 1,000 of them.
 */
export function signalsFromJson(rows: unknown, vehicleId: string): Signal[] {
  for (const row of rows as Array<Record<string, unknown>>) {
    row.vehicleId = vehicleId;
    for (const time of TIMES) if (typeof row[time] === "number") row[time] = new Date(row[time]);
  }
  return rows as Signal[];
}

/**
 * Set-based reads of latest values, history, failures and time series: one statement per batch of
 * vehicles. `scope` is the Smartcar user a viewer is limited to (undefined: every user's rows).
 */
export class SignalService {
  constructor(private readonly dataSource: DataSource) {}

  /** Latest good values of the vehicles, by vehicle then code; for a user, their own (see latestSql). */
  async latestByVehicles(vehicleIds: readonly string[], scope: string | undefined): Promise<Signal[]> {
    const rows = await readRows<ValueRow>(
      this.dataSource,
      `SELECT * FROM (${latestSql("ANY($1)", scope === undefined ? undefined : "$2")}) latest ORDER BY "vehicleId", code`,
      scope === undefined ? [vehicleIds] : [vehicleIds, scope],
    );
    return rows.map((row) => hydrate(new Signal(), row));
  }

  /**
   * Each vehicle's values as they were at `asOf`: per signal, the reading observed last at or before
   * that instant (the same "newest wins" order as the latest value, so `asOf: now` equals `signals`).
   * Readings that arrived late count by when they were observed. Every code with a reading has a
   * `signals` row, so one backward index probe per known signal finds it, however long the history
   * (for a user, on the (user_id, vehicle_id, code, observed_at) index).
   */
  async asOfByVehicles(vehicleIds: readonly string[], asOf: Date, scope: string | undefined): Promise<Signal[]> {
    const rows: ValueRow[] = await this.dataSource.query(
      `SELECT h.*
         FROM signals s
         CROSS JOIN LATERAL (
           SELECT ${VALUE_COLUMNS("r")}
             FROM signal_readings r
            WHERE r.vehicle_id = s.vehicle_id AND r.code = s.code AND r.observed_at <= $2 ${onlyUser("r", scope, 3)}
            ORDER BY r.observed_at DESC, r.event_id DESC, r.id DESC
            LIMIT 1
         ) h
        WHERE s.vehicle_id = ANY($1)
        ORDER BY s.vehicle_id, s.code`,
      [vehicleIds, asOf, ...scopeParameters(scope)],
    );
    return rows.map((row) => hydrate(new Signal(), row));
  }

  /** Signals currently failing, by vehicle then code. */
  async errorsByVehicles(vehicleIds: readonly string[], scope: string | undefined): Promise<SignalError[]> {
    const rows: SignalError[] = await this.dataSource.query(
      `SELECT e.vehicle_id AS "vehicleId", e.code, e.name, e.group_name AS "group", e.error_type AS "errorType",
              e.error_code AS "errorCode", e.first_seen_at AS "firstSeenAt", e.last_seen_at AS "lastSeenAt",
              e.reported_at AS "reportedAt", e.event_id AS "eventId"
         FROM signal_errors e WHERE e.vehicle_id = ANY($1) ${onlyUser("e", scope, 2)} ORDER BY e.vehicle_id, e.code`,
      [vehicleIds, ...scopeParameters(scope)],
    );
    return rows.map((row) => Object.assign(new SignalError(), row));
  }

  /**
   * One history page per signal, all in one statement (a LATERAL subquery per key, each using the
   * (vehicle_id, code, observed_at) index). Ordered by observation time, then id.
   */
  async historyPages(keys: readonly SignalKey[], request: HistoryPageRequest, scope: string | undefined): Promise<HistoryRow[][]> {
    const dir = request.direction === SortDirection.ASC ? "ASC" : "DESC";
    const cmp = dir === "ASC" ? ">" : "<";
    const rows: Array<ValueRow & { id: string; late: boolean; ord: string; sortKey: string }> = await this.dataSource.query(
      `SELECT k.ord, h.*
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(vehicle_id, code, ord)
         CROSS JOIN LATERAL (
           SELECT r.id, ${VALUE_COLUMNS("r")}, r.late, r.observed_at::text AS "sortKey"
             FROM signal_readings r
            WHERE r.vehicle_id = k.vehicle_id AND r.code = k.code
              AND ($3::timestamptz IS NULL OR r.observed_at >= $3)
              AND ($4::timestamptz IS NULL OR r.observed_at < $4)
              AND ($5::timestamptz IS NULL OR (r.observed_at, r.id) ${cmp} ($5::timestamptz, $6::bigint))
              ${onlyUser("r", scope, 8)}
            ORDER BY r.observed_at ${dir}, r.id ${dir}
            LIMIT $7
         ) h
        ORDER BY k.ord, h."sortKey"::timestamptz ${dir}, h.id ${dir}`,
      [
        keys.map((key) => key.vehicleId),
        keys.map((key) => key.code),
        request.from ?? null,
        request.to ?? null,
        request.after?.[0] ?? null,
        request.after?.[1] ?? null,
        request.first + 1,
        ...scopeParameters(scope),
      ],
    );
    const pages = keys.map((): HistoryRow[] => []);
    for (const { ord, sortKey, ...reading } of rows) {
      pages[Number(ord) - 1].push({ node: hydrate(new SignalReading(), reading), key: [sortKey, reading.id] });
    }
    return pages;
  }

  /** How many readings each signal has in the range. */
  async historyCounts(keys: readonly SignalKey[], range: HistoryRange, scope: string | undefined): Promise<number[]> {
    const rows: Array<{ count: string }> = await this.dataSource.query(
      `SELECT (SELECT count(*) FROM signal_readings r
                WHERE r.vehicle_id = k.vehicle_id AND r.code = k.code
                  AND ($3::timestamptz IS NULL OR r.observed_at >= $3)
                  AND ($4::timestamptz IS NULL OR r.observed_at < $4) ${onlyUser("r", scope, 5)}) AS count
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(vehicle_id, code, ord)
        ORDER BY k.ord`,
      [keys.map((key) => key.vehicleId), keys.map((key) => key.code), range.from ?? null, range.to ?? null, ...scopeParameters(scope)],
    );
    return rows.map((row) => Number(row.count));
  }

  /**
   * Time buckets of each signal's numeric readings in [from, to), aggregated in SQL with date_bin
   * (buckets start at `from`). Every bucket is returned, empty ones with count 0, so charts need no gaps logic.
   * Late readings count at the time they were observed.
   */
  async series(keys: readonly SignalKey[], request: SeriesRequest, scope: string | undefined): Promise<SeriesRow[][]> {
    const rows: Array<Omit<SeriesRow, "count"> & { ord: string; count: string }> = await this.dataSource.query(
      `SELECT k.ord,
              date_bin(make_interval(secs => $5), r.observed_at, $3::timestamptz) AS start,
              count(*) AS count,
              (array_agg(r.value ORDER BY r.observed_at, r.event_id, r.id))[1] AS first,
              (array_agg(r.value ORDER BY r.observed_at DESC, r.event_id DESC, r.id DESC))[1] AS last,
              min(r.value) AS min, max(r.value) AS max, avg(r.value) AS avg
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(vehicle_id, code, ord)
         JOIN signal_readings r
           ON r.vehicle_id = k.vehicle_id AND r.code = k.code
          AND r.observed_at >= $3 AND r.observed_at < $4 AND r.value IS NOT NULL ${onlyUser("r", scope, 6)}
        GROUP BY k.ord, start
        ORDER BY k.ord, start`,
      [keys.map((key) => key.vehicleId), keys.map((key) => key.code), request.from, request.to, request.intervalSeconds, ...scopeParameters(scope)],
    );
    const byKey = keys.map(() => new Map<number, SeriesRow>());
    for (const { ord, count, start, ...values } of rows) {
      byKey[Number(ord) - 1].set(new Date(start).getTime(), { start: new Date(start), count: Number(count), ...values });
    }
    const step = request.intervalSeconds * 1000;
    return byKey.map((buckets) =>
      Array.from({ length: request.buckets }, (_, n) => {
        const start = new Date(request.from.getTime() + n * step);
        return buckets.get(start.getTime()) ?? { start, count: 0, first: null, last: null, min: null, max: null, avg: null };
      }),
    );
  }
}
