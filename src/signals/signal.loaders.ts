import DataLoader from "dataloader";
import { scopeOf } from "../auth/viewer";
import { groupBy, perArguments } from "../graphql/batching";
import { perOperation } from "../graphql/context";
import { fieldsIn } from "../graphql/selection";
import type { IncludePlan, VehicleInclude } from "../vehicles/vehicle-includes";
import type { Vehicle } from "../vehicles/vehicle.entity";
import type { Signal } from "./signal.entity";
import { latestSql, signalsFromJson, SignalService, type ValueColumn, type HistoryPageRequest, type HistoryRange, type SeriesRequest, type SignalKey } from "./signal.service";

const signalKey = (key: SignalKey) => `${key.vehicleId}\u0000${key.code}`;

/**
 * The signals part of one operation: every field resolver asks a loader, and each loader turns all
 * the keys of one execution tick into one SQL statement, so a page of N vehicles with their signals
 * costs the same few statements for any N. Every loader keeps to the viewer's own rows (contract,
 * Access); they are only asked for vehicles a scoped query already returned.
 */
export const signalsOf = perOperation(({ dataSource, viewer }) => {
  const service = new SignalService(dataSource);
  const scope = scopeOf(viewer);
  const historyCount = perArguments(
    (range: HistoryRange) =>
      new DataLoader((keys: readonly SignalKey[]) => service.historyCounts(keys, range, scope), { cacheKeyFn: signalKey }),
  );
  return {
    latest: new DataLoader(async (ids: readonly string[]) =>
      groupBy(ids, await service.latestByVehicles(ids, scope), (row) => row.vehicleId),
    ),
    asOf: perArguments(
      (asOf: Date) =>
        new DataLoader(async (ids: readonly string[]) => groupBy(ids, await service.asOfByVehicles(ids, asOf, scope), (row) => row.vehicleId)),
    ),
    errors: new DataLoader(async (ids: readonly string[]) => groupBy(ids, await service.errorsByVehicles(ids, scope), (row) => row.vehicleId)),
    history: perArguments(
      (request: HistoryPageRequest) =>
        new DataLoader(
          async (keys: readonly SignalKey[]) =>
            (await service.historyPages(keys, request, scope)).map((rows, index) => ({
              rows,
              // Counts of all histories asked for in one tick go into one statement too.
              count: () => historyCount({ from: request.from, to: request.to }).load(keys[index]),
            })),
          { cacheKeyFn: signalKey },
        ),
    ),
    series: perArguments(
      (request: SeriesRequest) =>
        new DataLoader((keys: readonly SignalKey[]) => service.series(keys, request, scope), { cacheKeyFn: signalKey }),
    ),
  };
});

/**
 * The Signal fields and the value columns each reads (`code` is always read, `vehicleId` is the vehicle's). A field
 * not listed here reads every column, so a field added later is answered right before it is listed.
 */
const FIELD_COLUMNS = new Map<string, readonly ValueColumn[]>([
  ["__typename", []],
  ["vehicleId", []],
  ["code", []],
  ["name", ["name"]],
  ["group", ["group"]],
  ["value", ["value"]],
  ["unit", ["unit"]],
  ["body", ["body"]],
  ["kind", ["body"]],
  ["number", ["body"]],
  ["boolean", ["body"]],
  ["text", ["body"]],
  ["location", ["body"]],
  ["retrievedAt", ["retrievedAt"]],
  ["oemUpdatedAt", ["oemUpdatedAt"]],
  ["receivedAt", ["appliedAt"]],
  ["observedAt", ["observedAt"]],
  ["ageSeconds", ["observedAt"]],
  ["history", []],
  ["series", []],
]);

/**
 * Latest values fetched with a Vehicle object (see latestSignalsInclude), read by its `signals` and
 * `signal` fields. Kept on the object under a symbol (GraphQL and JSON never see it): a WeakMap entry
 * per vehicle of every page cost more, in its insert and in the garbage collector.
 */
const INCLUDED_LATEST = Symbol("includedLatest");
type WithLatest = Vehicle & { [INCLUDED_LATEST]?: Signal[] };
export const includedLatest = {
  get: (vehicle: Vehicle): Signal[] | undefined => (vehicle as WithLatest)[INCLUDED_LATEST],
  set: (vehicle: Vehicle, signals: Signal[]): void => {
    (vehicle as WithLatest)[INCLUDED_LATEST] = signals;
  },
};

/**
 * A vehicle's latest values fetched with the vehicle (one statement for `vehicle(id) { signals }` and
 * for a page with its signals), as one JSON array ordered by code, of only the columns the selected
 * Signal fields read (a page's 1,000 values as 1,000 small objects, not 1,000 bodies and 4,000 dates).
 * Not for `signals(asOf)`, which reads history.
 */
export const latestSignalsInclude: VehicleInclude = {
  wants: (field) => field.name.value === "signal" || (field.name.value === "signals" && !field.arguments?.some((arg) => arg.name.value === "asOf")),
  plan(fields, fragments): IncludePlan {
    // The vehicle's id is not repeated in every value: signalsFromJson sets it from the vehicle.
    let columns: Set<ValueColumn> | undefined = new Set<ValueColumn>(["code"]);
    for (const field of fieldsIn(fields.flatMap((f) => (f.selectionSet ? [f.selectionSet] : [])), fragments)) {
      const reads = FIELD_COLUMNS.get(field.name.value);
      if (reads === undefined) {
        columns = undefined;
        break;
      }
      for (const column of reads) columns.add(column);
    }
    const chosen = columns;
    return {
      key: `latest:${chosen ? [...chosen].sort().join(",") : "*"}`,
      sql: (scope) => `(SELECT coalesce(json_agg(l ORDER BY l.code), '[]'::json) FROM (${latestSql("v.id", scope, chosen)}) l)`,
      use: (vehicle, value) => includedLatest.set(vehicle, signalsFromJson(value, vehicle.id)),
    };
  },
};
