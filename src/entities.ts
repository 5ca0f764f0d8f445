import { VehicleIssueChange } from "./issues/vehicle-issue-change.entity";
import { VehicleIssue } from "./issues/vehicle-issue.entity";
import { SignalError } from "./signals/signal-error.entity";
import { SignalReading } from "./signals/signal-reading.entity";
import { Signal } from "./signals/signal.entity";
import { Vehicle } from "./vehicles/vehicle.entity";
import { WebhookEvent } from "./webhooks/webhook-event.entity";
import { WebhookRejection } from "./webhooks/webhook-rejection.entity";

/** Every table the app maps; the migrations in `migrations/` create exactly these. */
export const ENTITIES = [Vehicle, Signal, SignalReading, SignalError, VehicleIssue, VehicleIssueChange, WebhookEvent, WebhookRejection];
