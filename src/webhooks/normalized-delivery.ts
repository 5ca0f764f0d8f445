/** Every accepted Smartcar variant, reduced to the one shape the apply path works on. */

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

export interface VehicleInfo {
  readonly id: string;
  readonly userId: string | null;
  readonly make: string | null;
  readonly model: string | null;
  readonly year: number | null;
  readonly vin: string | null;
}

/** A good signal value. */
export interface SignalReadingInput {
  readonly code: string;
  readonly name: string | null;
  readonly group: string | null;
  readonly body: unknown;
  readonly value: number | null;
  readonly unit: string | null;
  /** null when Smartcar sent none or `0` (static attributes). */
  readonly oemUpdatedAt: Date | null;
  readonly retrievedAt: Date | null;
}

/** A signal Smartcar could not read (`status.value = "ERROR"`). */
export interface SignalFailure {
  readonly code: string;
  readonly name: string | null;
  readonly group: string | null;
  readonly errorType: string;
  readonly errorCode: string | null;
}

export interface Trigger {
  readonly type: string;
  readonly code: string | null;
}

export interface IssueReport {
  readonly type: string;
  readonly code: string | null;
  readonly state: "ERROR" | "RESOLVED";
  readonly description: string | null;
  readonly suggestedUserMessage: string | null;
  readonly docUrl: string | null;
  readonly resolutionType: string | null;
  readonly signalCodes: readonly string[];
}

export interface VehicleStateDelivery {
  readonly kind: "VEHICLE_STATE";
  readonly envelope: Envelope;
  readonly vehicle: VehicleInfo;
  readonly readings: readonly SignalReadingInput[];
  readonly failures: readonly SignalFailure[];
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
