import { In, type DataSource } from "typeorm";
import { SignalReading } from "./signal-reading.entity";
import { Signal } from "./signal.entity";

export interface SignalChangeFilter {
  readonly vehicleId?: string;
  readonly codes?: readonly string[];
  /** Only values delivered for this Smartcar user (a user token); undefined for admins. */
  readonly userId?: string;
}

/**
 * The value as it became latest, from its history row: what `signalUpdated` pushes. Not the row in
 * `signals`, which may already hold a newer value by the time a slow subscriber gets here.
 */
export function signalFromReading(reading: SignalReading): Signal {
  return Object.assign(new Signal(), {
    vehicleId: reading.vehicleId,
    code: reading.code,
    name: reading.name,
    group: reading.group,
    body: reading.body,
    value: reading.value,
    unit: reading.unit,
    retrievedAt: reading.retrievedAt,
    oemUpdatedAt: reading.oemUpdatedAt,
    appliedAt: reading.appliedAt,
    observedAt: reading.observedAt,
    eventId: reading.eventId,
    userId: reading.userId,
  });
}

/** Signals of the given readings, by reading id (missing ids: the vehicle was deleted). */
export async function signalsByReadingIds(dataSource: DataSource, ids: readonly string[]): Promise<Map<string, Signal>> {
  const readings = await dataSource.getRepository(SignalReading).findBy({ id: In([...ids]) });
  return new Map(readings.map((reading) => [String(reading.id), signalFromReading(reading)]));
}

/**
 * Values that became latest at or after `since` (`late = false` is exactly that), in the order they
 * were applied (`applied_at`, the Signal's `receivedAt` in GraphQL).
 */
export async function replaySignals(
  dataSource: DataSource,
  filter: SignalChangeFilter,
  since: Date,
  limit: number,
  after?: string,
): Promise<Array<{ key: string; payload: Signal }>> {
  // No codes asked for: nothing can match (and `IN ()` is not SQL).
  if (filter.codes?.length === 0) return [];
  const query = dataSource
    .getRepository(SignalReading)
    .createQueryBuilder("r")
    .where("r.late = false")
    .andWhere("r.appliedAt >= :since", { since })
    .orderBy("r.id", "ASC")
    .limit(limit);
  if (after !== undefined) query.andWhere("r.id > :after", { after }); // the next page
  if (filter.vehicleId !== undefined) query.andWhere("r.vehicleId = :vehicleId", { vehicleId: filter.vehicleId });
  if (filter.codes !== undefined) query.andWhere("r.code IN (:...codes)", { codes: filter.codes });
  if (filter.userId !== undefined) query.andWhere("r.userId = :userId", { userId: filter.userId });
  const readings = await query.getMany();
  return readings.map((reading) => ({ key: String(reading.id), payload: signalFromReading(reading) }));
}
