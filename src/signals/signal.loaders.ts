import DataLoader from "dataloader";
import { scopeOf } from "../auth/viewer";
import { groupBy, perArguments } from "../graphql/batching";
import { perOperation } from "../graphql/context";
import type { VehicleInclude } from "../vehicles/vehicle-includes";
import { latestSql, signalsFromJson, SignalService, type HistoryPageRequest, type HistoryRange, type SeriesRequest, type SignalKey } from "./signal.service";

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
 * A vehicle's latest values fetched with the vehicle (one statement for `vehicle(id) { signals }` and
 * for a page with its signals), as one JSON array ordered by code; they prime `latest`. Not for
 * `signals(asOf)`, which reads history.
 */
export const latestSignalsInclude: VehicleInclude = {
  name: "latestSignals",
  wants: (field) => field.name.value === "signal" || (field.name.value === "signals" && !field.arguments?.some((arg) => arg.name.value === "asOf")),
  sql: (scope) => `(SELECT coalesce(json_agg(l ORDER BY l.code), '[]'::json) FROM (${latestSql("v.id", scope)}) l)`,
  use: (ctx, vehicleId, value) => signalsOf(ctx).latest.prime(vehicleId, signalsFromJson(value)),
};
