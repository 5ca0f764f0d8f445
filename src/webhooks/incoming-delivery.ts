import type { DataDelivery } from "./normalized-delivery";

/** A verified, normalised delivery waiting to be applied, with the exact bytes Smartcar sent. */
export interface IncomingDelivery {
  readonly delivery: DataDelivery;
  readonly rawBody: Buffer;
  readonly receivedAt: Date;
}

/**
 * What became of a delivery: `applied` to live state, `duplicate` of an event already stored (a
 * Smartcar retry), or `test`: a TEST-mode delivery kept raw without touching live state.
 */
export type DeliveryStatus = "applied" | "duplicate" | "test";

export interface DeliveryOutcome {
  readonly status: DeliveryStatus;
  readonly eventId: string;
}
