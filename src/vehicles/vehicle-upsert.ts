import type { EntityManager } from "typeorm";
import type { VehicleInfo } from "../webhooks/normalized-delivery";

/**
 * Creates or refreshes the vehicles a batch of deliveries names, in id order. The row lock each
 * upsert takes serialises concurrent deliveries for the same vehicle (so their signal and issue
 * updates cannot interleave), and the fixed order keeps two batches from deadlocking.
 * Returns each vehicle's owner as now stored, and the database's clock once every lock is held.
 */
export async function upsertVehicles(manager: EntityManager, vehicles: readonly VehicleInfo[]): Promise<UpsertedVehicles> {
  const byId = new Map<string, VehicleInfo>();
  for (const vehicle of vehicles) {
    const seen = byId.get(vehicle.id);
    // Later deliveries in the batch win, but never erase what an earlier one said.
    byId.set(vehicle.id, seen ? mergeVehicle(seen, vehicle) : vehicle);
  }
  if (byId.size === 0) return { owners: new Map(), lockedAt: null };
  const rows = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const result: Array<{ id: string; user_id: string | null; locked_at: Date }> = await manager.query(
    `INSERT INTO vehicles (id, user_id, make, model, year, vin, first_seen_at, last_seen_at)
     SELECT v.id, v.user_id, v.make, v.model, v.year, v.vin, now(), now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])
            WITH ORDINALITY AS v(id, user_id, make, model, year, vin, ord)
      ORDER BY v.ord
     ON CONFLICT (id) DO UPDATE SET
       user_id = COALESCE(EXCLUDED.user_id, vehicles.user_id),
       make = COALESCE(EXCLUDED.make, vehicles.make),
       model = COALESCE(EXCLUDED.model, vehicles.model),
       year = COALESCE(EXCLUDED.year, vehicles.year),
       vin = COALESCE(EXCLUDED.vin, vehicles.vin),
       last_seen_at = GREATEST(vehicles.last_seen_at, EXCLUDED.last_seen_at)
     RETURNING id, user_id, clock_timestamp() AS locked_at`,
    [
      rows.map((v) => v.id),
      rows.map((v) => v.userId),
      rows.map((v) => v.make),
      rows.map((v) => v.model),
      rows.map((v) => v.year),
      rows.map((v) => v.vin),
    ],
  );
  return {
    owners: new Map(result.map((row) => [row.id, row.user_id])),
    lockedAt: new Date(Math.max(...result.map((row) => new Date(row.locked_at).getTime()))),
  };
}

export interface UpsertedVehicles {
  readonly owners: Map<string, string | null>;
  /**
   * The database's clock after the last lock was taken: later than the commit of any transaction that
   * held one of these vehicles before. Stamping history with it orders each vehicle's changes as they
   * committed, which resuming a subscription `since` an instant relies on.
   */
  readonly lockedAt: Date | null;
}

function mergeVehicle(earlier: VehicleInfo, later: VehicleInfo): VehicleInfo {
  return {
    id: later.id,
    userId: later.userId ?? earlier.userId,
    make: later.make ?? earlier.make,
    model: later.model ?? earlier.model,
    year: later.year ?? earlier.year,
    vin: later.vin ?? earlier.vin,
  };
}
