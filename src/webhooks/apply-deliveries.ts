import type { EntityManager } from "typeorm";
import { applyIssueReports, type IssueReportToApply } from "../issues/apply-issues";
import { applySignalErrors, applyReadings, type SignalErrorToApply, type ReadingToApply } from "../signals/apply-signals";
import type { Change, ChangePublisher } from "../changes/change";
import { upsertVehicles } from "../vehicles/vehicle-upsert";
import { ownerReadAt } from "./owner-read-at";
import type { DeliveryOutcome, IncomingDelivery } from "./incoming-delivery";
import { recordEvents } from "./record-events";
import { BACK_REPORT, NO_DATA } from "./silent-vehicles";

export interface ApplyOptions {
  /** SMARTCAR_APPLY_TEST_DELIVERIES: treat TEST-mode deliveries like LIVE ones. */
  readonly applyTestDeliveries: boolean;
  readonly publisher: ChangePublisher;
  /**
   * The events come from the raw archive (reprocessing): they are stored already, so they are applied
   * without being recorded again, and keep the time they were first received.
   */
  readonly fromArchive?: boolean;
  /**
   * SILENT_VEHICLE_FACTOR > 0: a delivery resolves its vehicle's open NO_DATA issue. Off, ingestion does
   * not look for one (a statement per batch saved). @default false
   */
  readonly silentVehicleCheck?: boolean;
}

/**
 * The one apply path: a batch of normalised deliveries, inside the caller's transaction. Every event is
 * stored raw once; new LIVE events update vehicles, signals, signal errors and issues with a fixed
 * number of set-based statements for the whole batch; the changes are published inside the
 * transaction, so subscribers hear of them only if it commits.
 * Outcomes are in batch order. A batch may repeat an event: the first one counts, later ones are duplicates.
 */
export async function applyDeliveries(
  manager: EntityManager,
  batch: readonly IncomingDelivery[],
  options: ApplyOptions,
): Promise<DeliveryOutcome[]> {
  const live = (item: IncomingDelivery) => options.applyTestDeliveries || item.delivery.envelope.mode === "LIVE";
  const firsts = new Map<string, IncomingDelivery>();
  const attempts = new Map<string, number>();
  for (const item of batch) {
    const eventId = item.delivery.envelope.eventId;
    if (!firsts.has(eventId)) firsts.set(eventId, item);
    attempts.set(eventId, (attempts.get(eventId) ?? 0) + 1);
  }
  const toRecord = [...firsts.values()].map((item) => ({
    item,
    outcome: live(item) ? ("applied" as const) : ("test" as const),
    attempts: attempts.get(item.delivery.envelope.eventId) ?? 1,
  }));
  const recorded = options.fromArchive ? new Set(firsts.keys()) : await recordEvents(manager, toRecord);
  const fresh = [...firsts.values()].filter((item) => recorded.has(item.delivery.envelope.eventId));
  const toApply = fresh.filter(live);

  // Vehicles first: their row locks serialise concurrent batches touching the same vehicle.
  const { owners, lockedAt } = await upsertVehicles(
    manager,
    toApply.flatMap(({ delivery, receivedAt }) =>
      delivery.vehicle
        ? [{ vehicle: delivery.vehicle, readAt: ownerReadAt(delivery, receivedAt), eventId: delivery.envelope.eventId }]
        : [],
    ),
  );

  const readings: ReadingToApply[] = [];
  const signalErrors: SignalErrorToApply[] = [];
  const reports: IssueReportToApply[] = [];
  for (const item of toApply) {
    const { delivery } = item;
    // History is stamped once the vehicle's lock is held (see UpsertedVehicles.lockedAt).
    const appliedAt = options.fromArchive ? item.receivedAt : (lockedAt ?? item.receivedAt);
    const vehicleId = delivery.vehicle?.id ?? null;
    // Everything a delivery brings keeps the user it was delivered for; one that names none, the owner's.
    const userId = delivery.vehicle?.userId ?? (vehicleId === null ? null : (owners.get(vehicleId) ?? null));
    const eventId = delivery.envelope.eventId;
    switch (delivery.kind) {
      case "VEHICLE_STATE": {
        const source = { vehicleId: delivery.vehicle.id, userId, eventId, appliedAt };
        for (const reading of delivery.readings) readings.push({ ...source, reading });
        const reportedAt = delivery.reportedAt ?? appliedAt;
        for (const report of delivery.signalErrors) signalErrors.push({ ...source, report, reportedAt });
        break;
      }
      case "VEHICLE_ERROR": {
        const reportedAt = delivery.envelope.deliveredAt ?? appliedAt;
        for (const report of delivery.reports) reports.push({ vehicleId, userId, eventId, reportedAt, report });
        break;
      }
    }
  }

  if (options.silentVehicleCheck && !options.fromArchive && lockedAt !== null) {
    reports.push(...(await silentVehiclesBack(manager, owners, lockedAt)));
  }

  const changes: Change[] = [
    ...(await applyReadings(manager, readings)),
    ...(await applyIssueReports(manager, reports)),
  ];
  await applySignalErrors(manager, signalErrors);
  if (changes.length > 0) await options.publisher.publish(manager, changes);

  const answered = new Set<string>();
  return batch.map((item): DeliveryOutcome => {
    const eventId = item.delivery.envelope.eventId;
    const first = !answered.has(eventId);
    answered.add(eventId);
    if (!first || !recorded.has(eventId)) return { status: "duplicate", eventId };
    return { status: live(item) ? "applied" : "test", eventId };
  });
}

/** A delivery from a vehicle with an open NO_DATA issue resolves it (see silent-vehicles.ts). */
async function silentVehiclesBack(manager: EntityManager, vehicles: ReadonlyMap<string, unknown>, at: Date): Promise<IssueReportToApply[]> {
  const open: Array<{ vehicle_id: string; user_id: string | null }> = await manager.query(
    `SELECT vehicle_id, user_id FROM vehicle_issues WHERE vehicle_id = ANY($1::text[]) AND type = '${NO_DATA}' AND state = 'OPEN'`,
    [[...vehicles.keys()]],
  );
  return open.map((issue) => ({
    vehicleId: issue.vehicle_id,
    userId: issue.user_id,
    eventId: `${NO_DATA}:${issue.vehicle_id}:${at.toISOString()}`,
    reportedAt: at,
    report: BACK_REPORT,
  }));
}
