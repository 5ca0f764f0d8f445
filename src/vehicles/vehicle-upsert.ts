import type { EntityManager } from "typeorm";
import { arrayLiteral } from "../db/array-literal";
import { compareBytewise } from "../db/bytewise";

export interface VehicleInfo {
  readonly id: string;
  readonly userId: string | null;
  readonly make: string | null;
  readonly model: string | null;
  readonly year: number | null;
  readonly vin: string | null;
}

/** A delivery's word on its vehicle, with what orders it among the vehicle's deliveries. */
export interface VehicleSighting {
  readonly vehicle: VehicleInfo;
  /** When the delivery's data was read (see ownerReadAt). */
  readonly readAt: Date;
  readonly eventId: string;
}

/**
 * Whether the incoming delivery makes its user the owner: it names one and was read later than the
 * delivery that made the current owner (the same instant: a greater event id). Event ids compare
 * bytewise (COLLATE "C"), whatever the database's collation, as readLater does.
 */
const TAKES_OVER = `(EXCLUDED.user_id IS NOT NULL AND (old.owner_read_at IS NULL
  OR (old.owner_read_at, COALESCE(old.owner_event_id, '') COLLATE "C") < (EXCLUDED.owner_read_at, EXCLUDED.owner_event_id COLLATE "C")))`;

/**
 * Creates or refreshes the vehicles a batch of deliveries names, in id order. The row lock each
 * upsert takes serialises concurrent deliveries for the same vehicle (so their signal and issue
 * updates cannot interleave), and the fixed order keeps two batches from deadlocking.
 * The owner is the user of the delivery read last (contract, Access), ties broken by event id: a
 * late or retried older delivery never changes it, whatever the order of arrival.
 * Returns each vehicle's owner as now stored, and the database's clock once every lock is held.
 */
export async function upsertVehicles(manager: EntityManager, sightings: readonly VehicleSighting[]): Promise<UpsertedVehicles> {
  const byId = new Map<string, Merged>();
  for (const sighting of sightings) {
    const seen = byId.get(sighting.vehicle.id);
    byId.set(sighting.vehicle.id, seen ? merge(seen, sighting) : fromSighting(sighting));
  }
  if (byId.size === 0) return { owners: new Map(), lockedAt: null };
  const rows = [...byId.values()].sort((a, b) => compareBytewise(a.id, b.id));
  const result: Array<{ id: string; user_id: string | null; locked_at: Date }> = await manager.query(
    `INSERT INTO vehicles AS old (id, user_id, owner_read_at, owner_event_id, make, model, year, vin, first_seen_at, last_seen_at)
     SELECT v.id, v.user_id, v.owner_read_at, v.owner_event_id, v.make, v.model, v.year, v.vin, now(), now()
       FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[])
            WITH ORDINALITY AS v(id, user_id, owner_read_at, owner_event_id, make, model, year, vin, ord)
      ORDER BY v.ord
     ON CONFLICT (id) DO UPDATE SET
       user_id = CASE WHEN ${TAKES_OVER} THEN EXCLUDED.user_id ELSE old.user_id END,
       owner_read_at = CASE WHEN ${TAKES_OVER} THEN EXCLUDED.owner_read_at ELSE old.owner_read_at END,
       owner_event_id = CASE WHEN ${TAKES_OVER} THEN EXCLUDED.owner_event_id ELSE old.owner_event_id END,
       make = COALESCE(EXCLUDED.make, old.make),
       model = COALESCE(EXCLUDED.model, old.model),
       year = COALESCE(EXCLUDED.year, old.year),
       vin = COALESCE(EXCLUDED.vin, old.vin),
       last_seen_at = GREATEST(old.last_seen_at, EXCLUDED.last_seen_at)
     RETURNING id, user_id, clock_timestamp() AS locked_at`,
    [
      arrayLiteral(rows.map((v) => v.id)),
      arrayLiteral(rows.map((v) => v.owner?.userId ?? null)),
      arrayLiteral(rows.map((v) => v.owner?.readAt ?? null)),
      arrayLiteral(rows.map((v) => v.owner?.eventId ?? null)),
      arrayLiteral(rows.map((v) => v.make)),
      arrayLiteral(rows.map((v) => v.model)),
      arrayLiteral(rows.map((v) => v.year)),
      arrayLiteral(rows.map((v) => v.vin)),
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

interface Owner {
  readonly userId: string;
  readonly readAt: Date;
  readonly eventId: string;
}

/** A vehicle as a batch's deliveries describe it: the newest-read delivery with a user names the owner. */
interface Merged extends Omit<VehicleInfo, "userId"> {
  readonly owner: Owner | null;
}

function ownerOf(sighting: VehicleSighting): Owner | null {
  const { userId } = sighting.vehicle;
  return userId === null ? null : { userId, readAt: sighting.readAt, eventId: sighting.eventId };
}

function fromSighting(sighting: VehicleSighting): Merged {
  const { id, make, model, year, vin } = sighting.vehicle;
  return { id, make, model, year, vin, owner: ownerOf(sighting) };
}

/** Read later, or at the same instant from a greater event id (the SQL's order). */
function readLater(candidate: Owner, current: Owner | null): boolean {
  if (current === null) return true;
  const [a, b] = [candidate.readAt.getTime(), current.readAt.getTime()];
  if (a !== b) return a > b;
  return compareBytewise(candidate.eventId, current.eventId) > 0;
}

function merge(earlier: Merged, sighting: VehicleSighting): Merged {
  const later = sighting.vehicle;
  const owner = ownerOf(sighting);
  return {
    id: later.id,
    // Later deliveries in the batch win the descriptive fields, but never erase what an earlier one said.
    make: later.make ?? earlier.make,
    model: later.model ?? earlier.model,
    year: later.year ?? earlier.year,
    vin: later.vin ?? earlier.vin,
    owner: owner !== null && readLater(owner, earlier.owner) ? owner : earlier.owner,
  };
}
