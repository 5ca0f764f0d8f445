/** Every accepted Smartcar variant, reduced to the one shape the apply path works on. */
import type { IssueReport } from "../issues/apply-issues";
import type { SignalErrorReport, SignalReadingInput } from "../signals/apply-signals";
import type { VehicleInfo } from "../vehicles/vehicle-upsert";

export type { IssueReport, SignalErrorReport, SignalReadingInput, VehicleInfo };

export type DeliveryMode = "LIVE" | "TEST";

export interface Envelope {
  readonly eventId: string;
  readonly eventType: "VEHICLE_STATE" | "VEHICLE_ERROR";
  readonly mode: DeliveryMode;
  readonly version: string | null;
  readonly webhookId: string | null;
  readonly deliveryId: string | null;
  readonly deliveredAt: Date | null;
}

export interface Trigger {
  readonly type: string;
  readonly code: string | null;
}

export interface VehicleStateDelivery {
  readonly kind: "VEHICLE_STATE";
  readonly envelope: Envelope;
  readonly vehicle: VehicleInfo;
  readonly readings: readonly SignalReadingInput[];
  readonly signalErrors: readonly SignalErrorReport[];
  readonly triggers: readonly Trigger[];
  /** When Smartcar read the vehicle (latest retrievedAt, else deliveredAt): orders signal errors. */
  readonly reportedAt: Date | null;
}

export interface VehicleErrorDelivery {
  readonly kind: "VEHICLE_ERROR";
  readonly envelope: Envelope;
  /** null for the top-level `errors` shape that names no vehicle. */
  readonly vehicle: VehicleInfo | null;
  readonly reports: readonly IssueReport[];
}

export interface VerifyDelivery {
  readonly kind: "VERIFY";
  readonly challenge: string;
}

export type NormalizedDelivery = VerifyDelivery | VehicleStateDelivery | VehicleErrorDelivery;
/** A delivery that changes stored state (everything but VERIFY). */
export type DataDelivery = VehicleStateDelivery | VehicleErrorDelivery;
