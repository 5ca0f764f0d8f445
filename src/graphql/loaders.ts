import DataLoader from "dataloader";
import { scopeOf, type Viewer } from "../auth/viewer";
import { episodesOf, type IssueEpisode } from "../issues/issue-episodes";
import type { IssueService } from "../issues/issue.service";
import type { VehicleIssue } from "../issues/vehicle-issue.entity";
import type { SignalError } from "../signals/signal-error.entity";
import type { SignalReading } from "../signals/signal-reading.entity";
import type { HistoryPageRequest, HistoryRange, SeriesRequest, SeriesRow, SignalKey, SignalService } from "../signals/signal.service";
import type { Signal } from "../signals/signal.entity";
import type { VehicleService } from "../vehicles/vehicle.service";
import type { Vehicle } from "../vehicles/vehicle.entity";
import type { PageRows } from "./connection";

export interface Services {
  readonly vehicles: VehicleService;
  readonly signals: SignalService;
  readonly issues: IssueService;
}

/**
 * Per-operation batching: every field resolver asks a loader, and each loader turns all the keys of
 * one execution tick into one SQL statement. A page of N vehicles with signals, errors and issues
 * therefore costs the same few statements for any N. Loaders cache for the operation only; never
 * share them between operations (nor across a subscription's events).
 *
 * Access: `vehicle` returns only vehicles the viewer owns now; every other loader returns only rows
 * delivered for the viewer's user (contract, Access), so a new owner never sees the previous owner's
 * values, history or issues, even on the vehicle they now own.
 */
export interface Loaders {
  /** A vehicle the viewer may see, or null. */
  readonly vehicle: DataLoader<string, Vehicle | null>;
  readonly signals: DataLoader<string, Signal[]>;
  readonly signalsAsOf: (asOf: Date) => DataLoader<string, Signal[]>;
  readonly signalErrors: DataLoader<string, SignalError[]>;
  /** The issues of a vehicle the viewer may see (scoped like `issues`). */
  readonly vehicleIssues: DataLoader<string, VehicleIssue[]>;
  readonly issueEpisodes: DataLoader<string, IssueEpisode[]>;
  readonly history: (request: HistoryPageRequest) => DataLoader<SignalKey, PageRows<SignalReading>, string>;
  readonly historyCount: (range: HistoryRange) => DataLoader<SignalKey, number, string>;
  readonly series: (request: SeriesRequest) => DataLoader<SignalKey, SeriesRow[], string>;
}

const signalKey = (key: SignalKey) => `${key.vehicleId}\u0000${key.code}`;

/** The rows of each key, in key order (rows of keys not asked for are ignored). */
function groupBy<K, T>(keys: readonly K[], rows: readonly T[], keyOf: (row: T) => K): T[][] {
  const groups = new Map<K, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key) ?? []);
}

/** One loader per distinct argument set (e.g. per `asOf`), created on first use. */
function perArguments<A, L>(create: (args: A) => L): (args: A) => L {
  const loaders = new Map<string, L>();
  return (args) => {
    const id = JSON.stringify(args);
    let loader = loaders.get(id);
    if (!loader) loaders.set(id, (loader = create(args)));
    return loader;
  };
}

export function createLoaders(viewer: Viewer, services: Services): Loaders {
  const { vehicles, signals, issues } = services;
  const scope = scopeOf(viewer);
  const historyCount = perArguments(
    (range: HistoryRange) => new DataLoader((keys: readonly SignalKey[]) => signals.historyCounts(keys, range, scope), { cacheKeyFn: signalKey }),
  );
  return {
    vehicle: new DataLoader(async (ids) => {
      const found = new Map((await vehicles.byIds(viewer, ids)).map((vehicle) => [vehicle.id, vehicle]));
      return ids.map((id) => found.get(id) ?? null);
    }),
    signals: new DataLoader(async (ids) => groupBy(ids, await signals.latestByVehicles(ids, scope), (row) => row.vehicleId)),
    signalsAsOf: perArguments((asOf: Date) => new DataLoader(async (ids: readonly string[]) => groupBy(ids, await signals.asOfByVehicles(ids, asOf, scope), (row) => row.vehicleId))),
    signalErrors: new DataLoader(async (ids) => groupBy(ids, await signals.errorsByVehicles(ids, scope), (row) => row.vehicleId)),
    vehicleIssues: new DataLoader(async (ids) => groupBy(ids, await issues.byVehicles(viewer, ids), (row) => row.vehicleId ?? "")),
    issueEpisodes: new DataLoader(async (ids) =>
      groupBy(ids, await issues.changesByIssues(viewer, ids), (row) => row.issueId).map((changes) => episodesOf(changes)),
    ),
    history: perArguments(
      (request: HistoryPageRequest) =>
        new DataLoader(
          async (keys: readonly SignalKey[]) =>
            (await signals.historyPages(keys, request, scope)).map((rows, index) => ({
              rows,
              // Counts of all histories asked for in one tick go into one statement too.
              count: () => historyCount({ from: request.from, to: request.to }).load(keys[index]),
            })),
          { cacheKeyFn: signalKey },
        ),
    ),
    historyCount,
    series: perArguments(
      (request: SeriesRequest) => new DataLoader((keys: readonly SignalKey[]) => signals.series(keys, request, scope), { cacheKeyFn: signalKey }),
    ),
  };
}
