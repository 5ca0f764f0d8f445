import "reflect-metadata";
import { Type } from "class-transformer";
import {
  Equals,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  type ValidationOptions,
} from "class-validator";

/**
 * The shapes Smartcar sends (shared/smartcar.md §1, §7, §8), as permissive as the variants require and
 * no more: every field the apply path relies on is checked here, so a 422 names the field. Fields we
 * don't use are left unchecked (the raw body is kept anyway).
 */

/**
 * Longest id, code or type accepted. These end up in B-tree indexes (vehicles, issue keys, events),
 * whose entries PostgreSQL caps at about 2.7 kB: an unchecked length would fail the insert (a 500)
 * instead of a 422 that keeps the delivery raw.
 */
const MAX_ID_LENGTH = 200;

/** PostgreSQL `integer`. */
export const INT4_MIN = -(2 ** 31);
export const INT4_MAX = 2 ** 31 - 1;

/** An unpaired UTF-16 surrogate (`"\ud800"` in JSON): a paired one is a single astral code point in `u` mode. */
export const UNPAIRED_SURROGATE = /\p{Cs}/u;

/**
 * An identifier we store and key on exactly: a non-empty string of at most MAX_ID_LENGTH characters
 * without unpaired surrogates. Replacing one (as we do in free text) could merge two different ids.
 */
function IsIdentifier({ allowEmpty = false } = {}): PropertyDecorator {
  const problem = (value: unknown) => identifierProblem(value, allowEmpty);
  return ValidateBy(
    {
      name: "isIdentifier",
      validator: {
        validate: (value: unknown) => problem(value) === undefined,
        defaultMessage: (args) => `${args?.property ?? "value"} ${problem(args?.value) ?? "is invalid"}`,
      },
    },
  );
}

/** What makes `value` no identifier (see IsIdentifier); undefined when it is one. */
export function identifierProblem(value: unknown, allowEmpty = false): string | undefined {
  if (typeof value !== "string") return "must be a string";
  if (value === "" && !allowEmpty) return "must not be empty";
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  if (UNPAIRED_SURROGATE.test(value)) return "must not contain an unpaired UTF-16 surrogate";
  return undefined;
}

/** Epoch milliseconds (or seconds, in one old example) as a number, or ISO-8601 text. */
export function isTimestamp(value: unknown): boolean {
  return (typeof value === "number" && Number.isFinite(value) && value >= 0) || (typeof value === "string" && !Number.isNaN(Date.parse(value)));
}

/** Epoch milliseconds (or seconds, in one old example) as a number, or ISO-8601 text. */
function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isTimestamp",
      validator: {
        validate: isTimestamp,
        defaultMessage: (args) => `${args?.property ?? "value"} must be epoch milliseconds or an ISO-8601 date-time`,
      },
    },
    options,
  );
}

/**
 * Checks a field only when present: unlike IsOptional, a `null` is checked too. For the lists the
 * normaliser walks, where null would reach `forEach` (a 500) rather than be refused by name.
 */
function IsAbsentOr(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

/** Every element an object: ValidateNested lets an array nested in the list through unchecked. */
function EachIsObject(): PropertyDecorator {
  const isObject = (element: unknown) => typeof element === "object" && element !== null && !Array.isArray(element);
  return ValidateBy({
    name: "eachIsObject",
    validator: {
      // Not an array at all is IsArray's to report.
      validate: (value: unknown) => !Array.isArray(value) || value.every(isObject),
      defaultMessage: () => "each element must be an object",
    },
  });
}

/** A string, or null (Smartcar sends `code: null` for some error types). */
function IsStringOrNull(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isStringOrNull",
      validator: {
        validate: (value: unknown) => value === null || typeof value === "string",
        defaultMessage: (args) => `${args?.property ?? "value"} must be a string or null`,
      },
    },
    options,
  );
}

export class MetaDto {
  @IsOptional() @IsString() version?: string;
  @IsOptional() @IsString() webhookId?: string;
  @IsOptional() @IsString() webhookName?: string;
  @IsOptional() @IsString() deliveryId?: string;
  @IsOptional() @IsTimestamp() deliveredAt?: number | string;
  @IsOptional() @IsString() mode?: string;
}

export class UserDto {
  @IsIdentifier() id: string;
}

export class VehicleDto {
  @IsIdentifier() id: string;
  @IsOptional() @IsString() make?: string;
  @IsOptional() @IsString() model?: string;
  /** A PostgreSQL (and GraphQL) `Int`. */
  @IsOptional() @IsInt() @Min(INT4_MIN) @Max(INT4_MAX) year?: number;
  @IsOptional() @IsString() vin?: string;
}

export class SignalErrorDetailDto {
  @IsOptional() @IsString() type?: string;
  @IsOptional() @IsStringOrNull() code?: string | null;
}

export class SignalStatusDto {
  @IsOptional() @IsString() value?: string;
  @IsOptional() @ValidateNested() @Type(() => SignalErrorDetailDto) error?: SignalErrorDetailDto;
}

export class SignalMetaDto {
  @IsOptional() @IsTimestamp() oemUpdatedAt?: number | string;
  @IsOptional() @IsTimestamp() retrievedAt?: number | string;
  /** The name some doc pages use instead of retrievedAt. */
  @IsOptional() @IsTimestamp() fetchedAt?: number | string;
}

export class SignalDto {
  @IsIdentifier() code: string;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsString() group?: string;
  /** Any JSON. Only its presence is checked here: the normaliser stores the body as parsed (see signalBodiesOf). */
  @IsOptional() body?: unknown;
  @IsOptional() @ValidateNested() @Type(() => SignalStatusDto) status?: SignalStatusDto;
  @IsOptional() @ValidateNested() @Type(() => SignalMetaDto) meta?: SignalMetaDto;
}

export class ResolutionDto {
  @IsOptional() @IsStringOrNull() type?: string | null;
}

export class ErrorReportDto {
  @IsIdentifier() type: string;
  /** `null` for some error types (IsOptional lets null through). */
  @IsOptional() @IsIdentifier({ allowEmpty: true }) code?: string | null;
  /** Missing in the oldest examples: treated as ERROR. */
  @IsOptional() @IsIn(["ERROR", "RESOLVED"]) state?: "ERROR" | "RESOLVED";
  @IsOptional() @IsStringOrNull() description?: string | null;
  @IsOptional() @IsStringOrNull() suggestedUserMessage?: string | null;
  @IsOptional() @IsStringOrNull() docURL?: string | null;
  @IsOptional() @ValidateNested() @Type(() => ResolutionDto) resolution?: ResolutionDto | null;
  /** `{code,name,group}` objects, `{code}` or "Group.Name" strings; checked by the normaliser. */
  @IsOptional() @IsArray() signals?: unknown[];
}

export class DataDto {
  @IsOptional() @IsString() challenge?: string;
  @IsOptional() @ValidateNested() @Type(() => UserDto) user?: UserDto;
  @IsOptional() @ValidateNested() @Type(() => VehicleDto) vehicle?: VehicleDto;
  @IsAbsentOr() @IsArray() @EachIsObject() @ValidateNested({ each: true }) @Type(() => SignalDto) signals?: SignalDto[];
  @IsAbsentOr() @IsArray() @EachIsObject() @ValidateNested({ each: true }) @Type(() => ErrorReportDto) errors?: ErrorReportDto[];
  @IsOptional() @IsArray() triggers?: unknown[];
}

export const EVENT_TYPES = ["VERIFY", "VEHICLE_STATE", "VEHICLE_ERROR"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A payload 3.0/4.0 delivery: `{ eventId, eventType, data, triggers?, errors?, meta }`. */
export class DeliveryDto {
  /** Smartcar keeps it across retries: the idempotency key. VERIFY may come without one. */
  @ValidateIf((delivery: DeliveryDto) => delivery.eventType !== "VERIFY")
  @IsIdentifier()
  eventId: string;

  @IsIn(EVENT_TYPES) eventType: EventType;
  /** `""` names no vehicle, as a missing one does. */
  @IsOptional() @IsIdentifier({ allowEmpty: true }) vehicleId?: string;

  @ValidateIf((delivery: DeliveryDto) => delivery.eventType !== "VEHICLE_ERROR" || delivery.data !== undefined)
  @IsObject()
  @ValidateNested()
  @Type(() => DataDto)
  data: DataDto;

  /** Top-level errors of the older VEHICLE_ERROR shape. */
  @IsAbsentOr() @IsArray() @EachIsObject() @ValidateNested({ each: true }) @Type(() => ErrorReportDto) errors?: ErrorReportDto[];
  @IsOptional() @IsArray() triggers?: unknown[];
  @IsOptional() @IsObject() @ValidateNested() @Type(() => MetaDto) meta?: MetaDto;
}

/** The legacy 2.0 VERIFY (`eventName: "verify"`, challenge under `payload`), still sent to old webhooks. */
export class LegacyVerifyPayloadDto {
  @IsString() challenge: string;
}

export class LegacyVerifyDto {
  @Equals("verify") eventName: "verify";
  @IsObject() @ValidateNested() @Type(() => LegacyVerifyPayloadDto) payload: LegacyVerifyPayloadDto;
}
