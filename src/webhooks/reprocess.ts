import type { DataSource, EntityManager } from "typeorm";
import type { ChangePublisher } from "../changes/change";
import { compareBytewise } from "../db/bytewise";
import { applyDeliveries } from "./apply-deliveries";
import type { IncomingDelivery } from "./incoming-delivery";
import { normalizeDelivery } from "./normalize";

/**
 * Rebuilding derived state from the raw event archive (`webhook_events.raw_body`), after a parser fix:
 * `fleetgraph reprocess`. The events received in the chosen time range pick the vehicles; each picked
 * vehicle is rebuilt whole: its derived rows are deleted and every archived event it ever had is applied
 * again, in the order received, through the normal normaliser and apply path. A whole vehicle rather than
 * just the range's events, because latest values, cleared signal errors and issue episodes depend on the
 * events before and after: the result is then exactly what applying the archive afresh gives.
 */

/** The tables rebuilt, children first (the order deletes run in). */
export const DERIVED_TABLES = ["vehicle_issue_changes", "vehicle_issues", "signal_errors", "signals", "signal_readings"] as const;
export type DerivedTable = (typeof DERIVED_TABLES)[number];

export interface ReprocessOptions {
  /** Events received at or after this instant pick their vehicles; undefined: since the beginning. */
  readonly from?: Date;
  /** Events received before this instant; undefined: until now. */
  readonly to?: Date;
  /** Do it all in one transaction and roll it back: report what would change, change nothing. */
  readonly dryRun: boolean;
  /** Vehicles rebuilt per transaction. */
  readonly vehiclesPerBatch?: number;
  /** Events normalised and applied per apply call. */
  readonly eventsPerApply?: number;
  /** Told after every batch of vehicles. */
  readonly onProgress?: (progress: ReprocessProgress) => void;
}

export interface ReprocessProgress {
  readonly vehiclesDone: number;
  readonly vehicles: number;
  readonly events: number;
}

export interface UnparseableEvent {
  readonly eventId: string;
  readonly reason: string;
}

export interface ReprocessReport {
  /** Vehicles rebuilt (the legacy top-level error shape that names none counts as one, "no vehicle"). */
  readonly vehicles: number;
  /** Archived events read again. */
  readonly events: number;
  /** Events that no longer parse: skipped, so nothing derived from them remains. */
  readonly unparseable: readonly UnparseableEvent[];
  /** Rows of each derived table for the rebuilt vehicles, before and after. */
  readonly tables: Record<DerivedTable, { before: number; after: number }>;
  readonly dryRun: boolean;
}

/** A vehicle to rebuild; null stands for the issues of events that name no vehicle. */
type VehicleKey = string | null;

/** Reprocessing tells no subscriber: it replays the past, and clients that care query again. */
const SILENT: ChangePublisher = { publish: async () => undefined };

class RolledBack extends Error {}

export async function reprocess(dataSource: DataSource, options: ReprocessOptions): Promise<ReprocessReport> {
  const vehiclesPerBatch = options.vehiclesPerBatch ?? 50;
  const keys = await vehiclesInRange(dataSource.manager, options.from, options.to);
  const report = {
    vehicles: keys.length,
    events: 0,
    unparseable: [] as UnparseableEvent[],
    tables: Object.fromEntries(DERIVED_TABLES.map((table) => [table, { before: 0, after: 0 }])) as ReprocessReport["tables"],
    dryRun: options.dryRun,
  };
  const batches: VehicleKey[][] = [];
  for (let start = 0; start < keys.length; start += vehiclesPerBatch) batches.push(keys.slice(start, start + vehiclesPerBatch));

  let done = 0;
  const rebuildAll = async (manager: EntityManager, only: VehicleKey[][]) => {
    for (const batch of only) {
      await rebuild(manager, batch, options, report);
      done += batch.length;
      options.onProgress?.({ vehiclesDone: done, vehicles: keys.length, events: report.events });
    }
  };

  if (options.dryRun) {
    try {
      await dataSource.transaction(async (manager) => {
        await rebuildAll(manager, batches);
        throw new RolledBack();
      });
    } catch (error) {
      if (!(error instanceof RolledBack)) throw error;
    }
  } else {
    // One transaction per batch: a failure keeps the batches done, and live ingestion waits on a few vehicles at a time.
    for (const batch of batches) await dataSource.transaction((manager) => rebuildAll(manager, [batch]));
  }
  return report;
}

/** The vehicles named by events received in [from, to), in bytewise order (the order their locks are taken). */
async function vehiclesInRange(manager: EntityManager, from: Date | undefined, to: Date | undefined): Promise<VehicleKey[]> {
  const rows: Array<{ vehicle_id: string | null }> = await manager.query(
    `SELECT DISTINCT vehicle_id FROM webhook_events
      WHERE outcome = 'applied'
        AND ($1::timestamptz IS NULL OR received_at >= $1) AND ($2::timestamptz IS NULL OR received_at < $2)`,
    [from?.toISOString() ?? null, to?.toISOString() ?? null],
  );
  const ids = rows.flatMap((row) => (row.vehicle_id === null ? [] : [row.vehicle_id])).sort(compareBytewise);
  return rows.some((row) => row.vehicle_id === null) ? [...ids, null] : ids;
}

/** `vehicle_id` is one of the batch's, or NULL when the batch holds the "no vehicle" key. */
const IN_BATCH = `(vehicle_id = ANY($1::text[]) OR ($2::bool AND vehicle_id IS NULL))`;

async function rebuild(
  manager: EntityManager,
  batch: readonly VehicleKey[],
  options: ReprocessOptions,
  report: { events: number; unparseable: UnparseableEvent[]; tables: ReprocessReport["tables"] },
): Promise<void> {
  const ids = batch.filter((key): key is string => key !== null);
  const parameters = [ids, batch.includes(null)];
  // The vehicles' row locks first, in the apply path's order: live deliveries for them wait until this commits.
  await manager.query(`SELECT id FROM vehicles WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C" FOR UPDATE`, [ids]);

  for (const table of DERIVED_TABLES) {
    const [{ count }]: Array<{ count: number }> = await manager.query(
      `WITH gone AS (DELETE FROM ${table} WHERE ${IN_BATCH} RETURNING 1) SELECT count(*)::int AS count FROM gone`,
      parameters,
    );
    report.tables[table].before += count;
  }
  // The owner is decided afresh too, by the deliveries read last.
  await manager.query(`UPDATE vehicles SET user_id = NULL, owner_read_at = NULL, owner_event_id = NULL WHERE id = ANY($1::text[])`, [ids]);

  // Every applied event of these vehicles, in the order received, a page at a time.
  const pageSize = options.eventsPerApply ?? 500;
  let after: { receivedAt: Date; id: string } | null = null;
  for (;;) {
    const rows: Array<{ id: string; event_id: string; raw_body: Buffer; received_at: Date }> = await manager.query(
      `SELECT id, event_id, raw_body, received_at FROM webhook_events
        WHERE outcome = 'applied' AND ${IN_BATCH}
          AND ($3::timestamptz IS NULL OR (received_at, id) > ($3::timestamptz, $4::bigint))
        ORDER BY received_at, id
        LIMIT ${pageSize}`,
      [...parameters, after?.receivedAt.toISOString() ?? null, after?.id ?? null],
    );
    if (rows.length === 0) break;
    const last = rows[rows.length - 1];
    after = { receivedAt: new Date(last.received_at), id: last.id };
    report.events += rows.length;

    const items: IncomingDelivery[] = [];
    for (const row of rows) {
      const parsed = parse(row.raw_body);
      if (typeof parsed === "string") report.unparseable.push({ eventId: row.event_id, reason: parsed });
      else items.push({ delivery: parsed, rawBody: row.raw_body, receivedAt: new Date(row.received_at) });
    }
    // Stored as applied already, whatever its mode: apply it again the same way.
    await applyDeliveries(manager, items, { applyTestDeliveries: true, publisher: SILENT, fromArchive: true });
  }

  for (const table of DERIVED_TABLES) {
    const [{ count }]: Array<{ count: number }> = await manager.query(
      `SELECT count(*)::int AS count FROM ${table} WHERE ${IN_BATCH}`,
      parameters,
    );
    report.tables[table].after += count;
  }
}

/** The delivery the archived bytes hold today, or why they no longer make one. */
function parse(rawBody: Buffer): IncomingDelivery["delivery"] | string {
  try {
    const delivery = normalizeDelivery(JSON.parse(rawBody.toString("utf8")));
    return delivery.kind === "VERIFY" ? "a VERIFY challenge, not a data delivery" : delivery;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
