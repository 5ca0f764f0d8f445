import { identifierProblem, INT4_MAX, INT4_MIN, isTimestamp, type DeliveryDto } from "./delivery.dto";

/**
 * The fast path of validation: whether `json` is a VEHICLE_STATE delivery in the plain form Smartcar
 * sends (every field present has its usual type; no nulls, no top-level vehicleId, no errors), which
 * DeliveryDto certainly accepts. Then it can be read as the DTO as it is: class-transformer and
 * class-validator cost a third of a delivery's CPU. Anything else returns false and takes the full
 * validation, which also words the 422. test/unit/normalize-fast-path.test.ts checks that both paths
 * normalise alike.
 */
export function isPlainVehicleState(json: object): json is DeliveryDto {
  const delivery = json as Record<string, unknown>;
  if (delivery.eventType !== "VEHICLE_STATE" || identifierProblem(delivery.eventId) !== undefined) return false;
  if (delivery.vehicleId !== undefined || delivery.errors !== undefined || !optionalArray(delivery.triggers)) return false;
  if (delivery.meta !== undefined && !plainMeta(delivery.meta)) return false;
  const data = delivery.data;
  if (!isRecord(data)) return false;
  if (data.challenge !== undefined || data.errors !== undefined || !optionalArray(data.triggers)) return false;
  if (data.user !== undefined && !(isRecord(data.user) && identifierProblem(data.user.id) === undefined)) return false;
  return plainVehicle(data.vehicle) && Array.isArray(data.signals) && data.signals.every(plainSignal);
}

function plainMeta(meta: unknown): boolean {
  return (
    isRecord(meta) &&
    ["version", "webhookId", "webhookName", "deliveryId", "mode"].every((key) => optionalString(meta[key])) &&
    (meta.deliveredAt === undefined || isTimestamp(meta.deliveredAt))
  );
}

function plainVehicle(vehicle: unknown): boolean {
  if (!isRecord(vehicle) || identifierProblem(vehicle.id) !== undefined) return false;
  if (![vehicle.make, vehicle.model, vehicle.vin].every(optionalString)) return false;
  const { year } = vehicle;
  return year === undefined || (typeof year === "number" && Number.isInteger(year) && year >= INT4_MIN && year <= INT4_MAX);
}

function plainSignal(signal: unknown): boolean {
  if (!isRecord(signal) || identifierProblem(signal.code) !== undefined) return false;
  if (!optionalString(signal.name) || !optionalString(signal.group)) return false;
  const { status, meta } = signal;
  if (status !== undefined) {
    if (!isRecord(status) || !optionalString(status.value)) return false;
    const { error } = status;
    if (error !== undefined && !(isRecord(error) && optionalString(error.type) && (error.code === null || optionalString(error.code)))) return false;
  }
  if (meta !== undefined) {
    if (!isRecord(meta)) return false;
    if (![meta.oemUpdatedAt, meta.retrievedAt, meta.fetchedAt].every((time) => time === undefined || isTimestamp(time))) return false;
  }
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === "string";
}

function optionalArray(value: unknown): boolean {
  return value === undefined || Array.isArray(value);
}
