import type { DataSource, SelectQueryBuilder } from "typeorm";
import { scopeOf, type Viewer } from "../auth/viewer";
import type { PageRows, SortDirection } from "../graphql/connection";
import type { CursorKey, CursorPart } from "../graphql/cursor";
import { readRows } from "../db/data-source";
import { keysetPage } from "../graphql/keyset";
import { signalConditionPredicates, signalSortValue, type CheckedCondition } from "./vehicle-signal-filter";
import { Vehicle } from "./vehicle.entity";
import { includeColumn, type IncludePlan } from "./vehicle-includes";
import { VehicleOrderField } from "./vehicles.args";

export interface VehicleFilter {
  make?: string | null;
  model?: string | null;
  year?: number | null;
  userId?: string | null;
  lastSeenAfter?: Date | null;
  lastSeenBefore?: Date | null;
}

/** By a field, or by a signal's latest NUMBER value (`signal`: its code). */
export type VehicleOrdering =
  | { readonly field: VehicleOrderField; readonly signal?: undefined; readonly direction: SortDirection }
  | { readonly field?: undefined; readonly signal: string; readonly direction: SortDirection };

/** The sort column of each ordering; every ordering ends with `id`, so the order is total and cursors are stable. */
const SORT_COLUMN: Record<VehicleOrderField, string | undefined> = {
  [VehicleOrderField.ID]: undefined,
  [VehicleOrderField.LAST_SEEN_AT]: "v.last_seen_at",
  [VehicleOrderField.FIRST_SEEN_AT]: "v.first_seen_at",
};

/** A timestamp as epoch milliseconds: a float and `new Date(ms)` cost less than pg's parsing of timestamptz text. */
const epochMs = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

/** A vehicle's columns under its property names, times as epochMs. */
const VEHICLE_COLUMNS = `v.id AS "id", v.make AS "make", v.model AS "model", v.year AS "year", v.vin AS "vin", v.user_id AS "userId",
  ${epochMs("v.owner_read_at")} AS "ownerReadAt", v.owner_event_id AS "ownerEventId",
  ${epochMs("v.first_seen_at")} AS "firstSeenAt", ${epochMs("v.last_seen_at")} AS "lastSeenAt"`;

const dateOf = (ms: unknown): Date | null => (ms === null ? null : new Date(ms as number));

/** A Vehicle from a VEHICLE_COLUMNS row. */
function vehicleOf(row: Record<string, unknown>): Vehicle {
  const vehicle = new Vehicle();
  vehicle.id = row.id as string;
  vehicle.make = row.make as string | null;
  vehicle.model = row.model as string | null;
  vehicle.year = row.year as number | null;
  vehicle.vin = row.vin as string | null;
  vehicle.userId = row.userId as string | null;
  vehicle.ownerReadAt = dateOf(row.ownerReadAt);
  vehicle.ownerEventId = row.ownerEventId as string | null;
  vehicle.firstSeenAt = dateOf(row.firstSeenAt)!;
  vehicle.lastSeenAt = dateOf(row.lastSeenAt)!;
  return vehicle;
}

/** Reads vehicles, always limited to what the viewer may see. */
export class VehicleService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The visible vehicles among `ids` (any order; unknown and foreign ids are simply missing), each with
   * its row (which holds the values of `includes`, see includeColumn). Plain SQL: the query builder
   * and its entity mapping cost more than the statement for this one-row read of every `vehicle(id)`.
   */
  async byIds(viewer: Viewer, ids: readonly string[], includes: readonly IncludePlan[] = []): Promise<Array<{ vehicle: Vehicle; row: Record<string, unknown> }>> {
    const scope = scopeOf(viewer);
    const scopeParameter = scope === undefined ? undefined : "$2";
    const included = includes.map((include, index) => `, ${include.sql(scopeParameter)} AS "${includeColumn(index)}"`).join("");
    // One id (every `vehicle(id)` alone) goes as text: pg need not write an array literal for it.
    const one = ids.length === 1;
    const rows = await readRows<Record<string, unknown>>(
      this.dataSource,
      `SELECT ${VEHICLE_COLUMNS}${included} FROM vehicles v WHERE v.id = ${one ? "$1" : "ANY($1)"}${scope === undefined ? "" : " AND v.user_id = $2"}`,
      [one ? ids[0] : ids, ...(scope === undefined ? [] : [scope])],
    );
    return rows.map((row) => ({ vehicle: vehicleOf(row), row }));
  }

  /**
   * One page (`first + 1` rows) in `ordering`, after the row whose sort key is `after`, of the vehicles
   * that pass `filter` and every signal condition (checked by checkWhere).
   */
  async page(
    viewer: Viewer,
    filter: VehicleFilter,
    ordering: VehicleOrdering,
    first: number,
    after: CursorKey | undefined,
    conditions: readonly CheckedCondition[] = [],
    includes: readonly IncludePlan[] = [],
  ): Promise<PageRows<Vehicle>> {
    // Plain columns made into vehicles by vehicleOf (keysetPage's hydrate), not TypeORM's entity mapping.
    const query = this.filtered(viewer, filter).select(VEHICLE_COLUMNS);
    // `:scope` is set by scoped() for a user.
    includes.forEach((include, index) => query.addSelect(include.sql(scopeOf(viewer) === undefined ? undefined : ":scope"), includeColumn(index)));
    for (const predicate of signalConditionPredicates(conditions, scopeOf(viewer))) query.andWhere(predicate.sql, predicate.parameters);
    if (ordering.signal !== undefined) {
      query.setParameter("sortCode", ordering.signal);
      const column = signalSortValue(query, scopeOf(viewer));
      const order = { column, columnType: "float8", nullsLast: true, id: "v.id", idType: "text", direction: ordering.direction } as const;
      return keysetPage(query, order, first, after, vehicleOf);
    }
    const order = { column: SORT_COLUMN[ordering.field], id: "v.id", idType: "text", direction: ordering.direction } as const;
    return keysetPage(query, order, first, after, vehicleOf);
  }

  /** Cursor key of an ordering (see `page`). */
  static cursorParts(ordering: VehicleOrdering): CursorPart[] {
    if (ordering.signal !== undefined) return ["float-or-empty", "text"];
    return SORT_COLUMN[ordering.field] ? ["timestamp", "text"] : ["text"];
  }

  private scoped(viewer: Viewer): SelectQueryBuilder<Vehicle> {
    const query = this.dataSource.getRepository(Vehicle).createQueryBuilder("v").where("TRUE");
    const scope = scopeOf(viewer);
    return scope === undefined ? query : query.andWhere("v.user_id = :scope", { scope });
  }

  private filtered(viewer: Viewer, filter: VehicleFilter): SelectQueryBuilder<Vehicle> {
    const query = this.scoped(viewer);
    if (filter.make != null) query.andWhere("lower(v.make) = lower(:make)", { make: filter.make });
    if (filter.model != null) query.andWhere("lower(v.model) = lower(:model)", { model: filter.model });
    if (filter.year != null) query.andWhere("v.year = :year", { year: filter.year });
    if (filter.userId != null) query.andWhere("v.user_id = :userId", { userId: filter.userId });
    if (filter.lastSeenAfter != null) query.andWhere("v.last_seen_at >= :lastSeenAfter", { lastSeenAfter: filter.lastSeenAfter });
    if (filter.lastSeenBefore != null) query.andWhere("v.last_seen_at < :lastSeenBefore", { lastSeenBefore: filter.lastSeenBefore });
    return query;
  }
}
