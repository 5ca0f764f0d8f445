import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
/** A condition checked (checkWhere in vehicle-where.ts) and reduced to what SQL needs. */
export type SignalTest =
  | { readonly kind: "any" }
  | { readonly kind: "number"; readonly lt?: number; readonly lte?: number; readonly gt?: number; readonly gte?: number; readonly equals?: number }
  | { readonly kind: "boolean"; readonly equals: boolean }
  | { readonly kind: "text"; readonly equals: string }
  | { readonly kind: "near"; readonly latitude: number; readonly longitude: number; readonly radiusMeters: number };

export interface CheckedCondition {
  readonly code: string;
  readonly test: SignalTest;
}

/** Mean Earth radius (IUGG), the sphere the great-circle distance of `near` is measured on. */
export const EARTH_RADIUS_METERS = 6_371_008.8;

/** An SQL predicate on the vehicles alias `v`, with its named parameters (TypeORM's `:name`). */
export interface VehiclePredicate {
  readonly sql: string;
  readonly parameters: Record<string, unknown>;
}

/**
 * The newest reading of the viewer (`:scope`) of signal `s`: their own latest value where the stored
 * one was delivered for another user (the same rule as SignalService.latestByVehicles).
 */
const OWN_NEWEST_READING = `
  SELECT r.kind, r.value, r.value_boolean, r.value_text, r.latitude, r.longitude
    FROM signal_readings r
   WHERE r.user_id = :scope AND r.vehicle_id = s.vehicle_id AND r.code = s.code
   ORDER BY r.observed_at DESC, r.event_id DESC, r.id DESC
   LIMIT 1`;

/**
 * Vehicles whose latest value of each condition's signal passes its test, as one predicate per
 * condition, on the typed columns of `signals` (migration TypedSignalValues, with a partial index per
 * kind). Limited to a user (`scope`), it is the value that user sees: the stored latest one where it
 * was delivered for them, else their newest reading of that signal (a vehicle handed over keeps the
 * previous owner's values in `signals`, which the new owner never sees).
 */
export function signalConditionPredicates(conditions: readonly CheckedCondition[], scope: string | undefined): VehiclePredicate[] {
  return conditions.map(({ code, test }, index) => {
    const p = `sc${index}_`;
    const parameters: Record<string, unknown> = { [`${p}code`]: code };
    const passes = (alias: string) => testSql(alias, test, p, parameters);
    // Every vehicle: one pass over the kind's partial index, hashed. One user's vehicles (already
    // narrowed by vehicles_user_id_idx): one primary-key lookup each, and the history only where
    // the stored value is another user's.
    const sql =
      scope === undefined
        ? `v.id IN (SELECT s.vehicle_id FROM signals s WHERE s.code = :${p}code AND ${passes("s")})`
        : `EXISTS (
             SELECT 1 FROM signals s
              WHERE s.vehicle_id = v.id AND s.code = :${p}code
                AND CASE WHEN s.user_id = :scope THEN ${passes("s")}
                         ELSE EXISTS (SELECT 1 FROM (${OWN_NEWEST_READING}) r WHERE ${passes("r")}) END)`;
    return { sql, parameters };
  });
}

/**
 * A vehicle's latest NUMBER value of `code` as the viewer sees it (see signalConditionPredicates),
 * null when it has none: what `orderBy: {signal}` sorts by. Parameter `:sortCode`. For every
 * vehicle, a join to the stored values (one hash join, not a lookup per vehicle); for a user,
 * whose fleet is already narrowed by vehicles_user_id_idx, a lookup per vehicle of theirs.
 */
export function signalSortValue(query: SelectQueryBuilder<ObjectLiteral>, scope: string | undefined): string {
  if (scope === undefined) {
    query.leftJoin("signals", "sort_signal", "sort_signal.vehicle_id = v.id AND sort_signal.code = :sortCode AND sort_signal.kind = 'NUMBER'");
    return "sort_signal.value";
  }
  const stored = `SELECT s.value FROM signals s WHERE s.vehicle_id = v.id AND s.code = :sortCode AND s.kind = 'NUMBER'`;
  return `COALESCE((${stored} AND s.user_id = :scope),
    (SELECT r.value FROM signals s CROSS JOIN LATERAL (${OWN_NEWEST_READING}) r
      WHERE s.vehicle_id = v.id AND s.code = :sortCode AND s.user_id IS DISTINCT FROM :scope AND r.kind = 'NUMBER'))`;
}

function testSql(alias: string, test: SignalTest, p: string, parameters: Record<string, unknown>): string {
  const parameter = (name: string, value: unknown, type: string) => {
    parameters[`${p}${name}`] = value;
    return `CAST(:${p}${name} AS ${type})`;
  };
  switch (test.kind) {
    case "any":
      return "TRUE";
    case "number": {
      const parts = [`${alias}.kind = 'NUMBER'`];
      const operators = { lt: "<", lte: "<=", gt: ">", gte: ">=", equals: "=" } as const;
      for (const name of ["lt", "lte", "gt", "gte", "equals"] as const) {
        const bound = test[name];
        if (bound !== undefined) parts.push(`${alias}.value ${operators[name]} ${parameter(name, bound, "float8")}`);
      }
      return parts.join(" AND ");
    }
    case "boolean":
      return `${alias}.kind = 'BOOLEAN' AND ${alias}.value_boolean = ${parameter("equals", test.equals, "boolean")}`;
    case "text":
      return `${alias}.kind = 'TEXT' AND ${alias}.value_text = ${parameter("equals", test.equals, "text")}`;
    case "near":
      return nearSql(alias, test, parameter);
  }
}

const degrees = (radians: number) => (radians * 180) / Math.PI;
const radians = (degrees: number) => (degrees * Math.PI) / 180;
/** Keeps points on the box's edge in despite rounding; the distance decides. */
const BOX_MARGIN_DEGREES = 1e-6;

/**
 * Great-circle distance (haversine) within the radius, after a bounding box that signals_location_idx
 * can range over (latitude, then longitude inside the index). The longitude range is left out where
 * the circle reaches a pole or crosses the antimeridian.
 */
function nearSql(
  alias: string,
  near: Extract<SignalTest, { kind: "near" }>,
  parameter: (name: string, value: unknown, type: string) => string,
): string {
  const angle = near.radiusMeters / EARTH_RADIUS_METERS;
  const latSpan = degrees(angle) + BOX_MARGIN_DEGREES;
  const parts = [`${alias}.kind = 'LOCATION'`];
  const latMin = near.latitude - latSpan;
  const latMax = near.latitude + latSpan;
  parts.push(`${alias}.latitude BETWEEN ${parameter("latMin", latMin, "float8")} AND ${parameter("latMax", latMax, "float8")}`);
  if (latMin > -90 && latMax < 90) {
    const lngSpan = degrees(Math.asin(Math.min(1, Math.sin(angle) / Math.cos(radians(near.latitude))))) + BOX_MARGIN_DEGREES;
    if (near.longitude - lngSpan >= -180 && near.longitude + lngSpan <= 180) {
      parts.push(
        `${alias}.longitude BETWEEN ${parameter("lngMin", near.longitude - lngSpan, "float8")} AND ${parameter("lngMax", near.longitude + lngSpan, "float8")}`,
      );
    }
  }
  const lat = parameter("lat", near.latitude, "float8");
  const lng = parameter("lng", near.longitude, "float8");
  const haversine = `power(sin(radians(${alias}.latitude - ${lat}) / 2), 2)
    + cos(radians(${lat})) * cos(radians(${alias}.latitude)) * power(sin(radians(${alias}.longitude - ${lng}) / 2), 2)`;
  parts.push(`2 * ${EARTH_RADIUS_METERS} * asin(LEAST(1, sqrt(${haversine}))) <= ${parameter("radius", near.radiusMeters, "float8")}`);
  return parts.join(" AND ");
}
