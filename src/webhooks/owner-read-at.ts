import type { DataDelivery } from "./normalized-delivery";

/**
 * What orders a vehicle's deliveries for ownership (contract, Access): when its data was read, the
 * newest `retrievedAt` of its signals, else their newest `oemUpdatedAt`, else `deliveredAt`, else the
 * receipt. Not `deliveredAt` first: a Smartcar retry carries a new one.
 */
export function ownerReadAt(delivery: DataDelivery, receivedAt: Date): Date {
  if (delivery.kind === "VEHICLE_STATE") {
    let retrieved = -Infinity;
    let updated = -Infinity;
    for (const reading of delivery.readings) {
      retrieved = Math.max(retrieved, reading.retrievedAt?.getTime() ?? -Infinity);
      updated = Math.max(updated, reading.oemUpdatedAt?.getTime() ?? -Infinity);
    }
    if (retrieved !== -Infinity) return new Date(retrieved);
    if (updated !== -Infinity) return new Date(updated);
  }
  return delivery.envelope.deliveredAt ?? receivedAt;
}
