import { plainToInstance } from "class-transformer";
import { validateSync, type ValidationError } from "class-validator";
import { UnprocessableEntity } from "../errors";
import { codeFromGroupName, numericValue, unitOf } from "../signals/signal-value";
import {
  DeliveryDto,
  LegacyVerifyDto,
  UNPAIRED_SURROGATE,
  type DataDto,
  type ErrorReportDto,
  type MetaDto,
  type SignalDto,
  type VehicleDto,
} from "./delivery.dto";
import type {
  DeliveryMode,
  Envelope,
  IssueReport,
  NormalizedDelivery,
  SignalErrorReport,
  SignalReadingInput,
  Trigger,
  VehicleInfo,
} from "./normalized-delivery";
import { isPlainVehicleState } from "./plain-vehicle-state";

/**
 * Validates a parsed JSON body against the delivery DTOs and turns any accepted variant (payload
 * 3.0/4.0, unversioned, legacy 2.0 VERIFY; see shared/smartcar.md §8) into a NormalizedDelivery.
 * Throws UnprocessableEntity naming the first failing field. `fastPath: false` (tests) always takes
 * the full validation.
 */
export function normalizeDelivery(json: unknown, { fastPath = true } = {}): NormalizedDelivery {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new UnprocessableEntity("body must be a JSON object");
  }
  checkStorable(json);
  // The fast path reads only the DTO's own fields, so it needs no copy without the type keys.
  if (fastPath && isPlainVehicleState(json)) return normalizeVehicleState(json, signalBodiesOf(json));
  const checked = forValidation(json) as object;
  if ((json as { eventName?: unknown }).eventName !== undefined && (json as { eventType?: unknown }).eventType === undefined) {
    const legacy = validated(LegacyVerifyDto, checked, "legacy 2.0 deliveries other than VERIFY are not supported");
    return { kind: "VERIFY", challenge: legacy.payload.challenge };
  }
  const delivery = validated(DeliveryDto, checked);
  switch (delivery.eventType) {
    case "VERIFY":
      if (typeof delivery.data?.challenge !== "string") throw new UnprocessableEntity("data.challenge must be a string");
      return { kind: "VERIFY", challenge: delivery.data.challenge };
    case "VEHICLE_STATE":
      return normalizeVehicleState(delivery, signalBodiesOf(json));
    case "VEHICLE_ERROR":
      return normalizeVehicleError(delivery);
  }
}

/** Deeper than any Smartcar payload (bodies nest a few levels); validation and storage recurse. */
const MAX_JSON_DEPTH = 64;

/** A node met while walking the body: its parent and key, so a path is built only for the one reported. */
interface Visit {
  readonly value: unknown;
  readonly depth: number;
  readonly parent?: Visit;
  readonly key?: string;
}

/**
 * What PostgreSQL and the recursive validators cannot take, found without recursing: nesting deeper
 * than MAX_JSON_DEPTH (a stack overflow) and U+0000 in any string or key (refused by text and jsonb).
 * Either made a signed delivery a 500 that was not kept; now it is a 422 naming the field, kept raw.
 */
function checkStorable(json: object): void {
  // Nearly every delivery passes: checked first without allocating; the walk below names the failure.
  if (storable(json, 1)) return;
  const pending: Visit[] = [{ value: json, depth: 1 }];
  for (let visit = pending.pop(); visit !== undefined; visit = pending.pop()) {
    const { value, depth } = visit;
    if (typeof value === "string") {
      if (value.includes("\u0000")) throw new UnprocessableEntity(`${pathOf(visit)}: must not contain U+0000 (NUL)`);
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    if (depth > MAX_JSON_DEPTH) throw new UnprocessableEntity(`${pathOf(visit)}: JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
    for (const [key, child] of Object.entries(value)) {
      if (key.includes("\u0000")) throw new UnprocessableEntity(`${pathOf(visit)}: keys must not contain U+0000 (NUL)`);
      pending.push({ value: child, depth: depth + 1, parent: visit, key });
    }
  }
}

/** checkStorable's test alone, recursing (at most MAX_JSON_DEPTH + 1 frames) and allocating nothing. */
function storable(value: unknown, depth: number): boolean {
  if (typeof value === "string") return !value.includes("\u0000");
  if (typeof value !== "object" || value === null) return true;
  if (depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) return value.every((child) => storable(child, depth + 1));
  for (const key of Object.keys(value)) {
    if (key.includes("\u0000") || !storable((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/** `data.signals[0].body.unit`, or `(body)` for the top level. Keys are shown tamed and cut short. */
function pathOf(visit: Visit): string {
  let path = "";
  for (let node = visit; node.parent !== undefined && node.key !== undefined; node = node.parent) {
    const key = node.key.replace(/[^\w$-]/g, "?").slice(0, 64);
    path = (Array.isArray(node.parent.value) ? `[${key}]` : `.${key}`) + path;
  }
  return path === "" ? "(body)" : path.replace(/^\./, "");
}

const UNPAIRED_SURROGATES = new RegExp(UNPAIRED_SURROGATE.source, "gu");

/**
 * Free text as PostgreSQL can store it: an unpaired UTF-16 surrogate (text cut mid-character, as an
 * OEM may send) becomes U+FFFD. jsonb refuses the `\ud800` escape outright (text would replace it
 * silently); replacing it everywhere we store free text keeps one rule. Identifiers are refused
 * instead (see IsIdentifier): a replaced id could merge two different ones.
 */
function wellFormed(text: string): string;
function wellFormed(text: string | null): string | null;
function wellFormed(text: string | null): string | null {
  return text === null ? null : text.replace(UNPAIRED_SURROGATES, "\ufffd");
}

/**
 * A copy of a JSON value with every string and key well-formed (see wellFormed). Keys are defined,
 * not assigned, so a `__proto__` key stays plain data. Depth is bounded by checkStorable.
 */
function wellFormedJson(value: unknown): unknown {
  // Nearly always already well-formed: then the parsed value itself (JSON.parse made its keys plain data too).
  return wellFormedAlready(value) ? value : wellFormedCopy(value);
}

function wellFormedAlready(value: unknown): boolean {
  if (typeof value === "string") return !UNPAIRED_SURROGATE.test(value);
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value)) return value.every(wellFormedAlready);
  return Object.keys(value).every((key) => !UNPAIRED_SURROGATE.test(key) && wellFormedAlready((value as Record<string, unknown>)[key]));
}

function wellFormedCopy(value: unknown): unknown {
  if (typeof value === "string") return wellFormed(value);
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(wellFormedCopy);
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [wellFormed(key), wellFormedCopy(child)]));
}

/**
 * Keys class-transformer must not see: it takes an object's `constructor` for the class to build (a
 * string there was a TypeError, a 500), and would assign `__proto__` as a prototype. No DTO has such
 * a field, so the copy that is validated leaves them out; signal bodies, which may hold anything,
 * are taken from the parsed JSON itself (see signalBodiesOf).
 */
const TYPE_KEYS = new Set(["constructor", "__proto__", "prototype"]);

function forValidation(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(forValidation);
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !TYPE_KEYS.has(key))
      .map(([key, child]) => [key, forValidation(child)]),
  );
}

/** `data.signals[i].body` as parsed, by index: what is stored, with every key it was sent with. */
function signalBodiesOf(json: object): unknown[] {
  const signals = (json as { data?: { signals?: unknown } }).data?.signals;
  if (!Array.isArray(signals)) return [];
  return signals.map((signal) => (typeof signal === "object" && signal !== null ? (signal as { body?: unknown }).body : undefined));
}

function validated<T extends object>(cls: new () => T, json: object, hint?: string): T {
  const instance = plainToInstance(cls, json);
  const errors = validateSync(instance, { forbidUnknownValues: false, stopAtFirstError: true });
  if (errors.length > 0) {
    const detail = describe(errors[0]);
    throw new UnprocessableEntity(hint ? `${hint} (${detail})` : detail);
  }
  return instance;
}

/** `data.signals[2].meta.oemUpdatedAt must be ...`: the path of the first failing field. */
function describe(error: ValidationError, parent = ""): string {
  const isIndex = /^\d+$/.test(error.property);
  const path = isIndex ? `${parent}[${error.property}]` : parent ? `${parent}.${error.property}` : error.property;
  const message = Object.values(error.constraints ?? {})[0];
  // Absent, not merely wrong: say so, rather than whichever constraint happened to run first.
  if (message !== undefined && error.value === undefined) return `${path} is required`;
  if (message !== undefined) {
    // class-validator words the message with the bare property; say the full path instead.
    return `${path}: ${message.replace(new RegExp(`^(each value in )?(nested property )?${error.property} `), "")}`;
  }
  const child = error.children?.[0];
  return child ? describe(child, path) : `${path} is invalid`;
}

function normalizeVehicleState(delivery: DeliveryDto, bodies: readonly unknown[]): NormalizedDelivery {
  const envelope = envelopeOf(delivery, "VEHICLE_STATE");
  const vehicle = vehicleOf(delivery.data, delivery.vehicleId);
  if (vehicle === null) throw new UnprocessableEntity("data.vehicle.id is required for VEHICLE_STATE");
  if (delivery.data.signals === undefined) throw new UnprocessableEntity("data.signals is required for VEHICLE_STATE");

  const readings: SignalReadingInput[] = [];
  const signalErrors: SignalErrorReport[] = [];
  delivery.data.signals.forEach((signal, index) => {
    // No body (missing or null) is no value: GraphQL's `Signal.body` is `JSON!`, so a stored null would
    // fail every query of the vehicle's signals. The raw delivery keeps what was sent.
    const body = bodies[index];
    const failed = signal.status?.value?.toUpperCase() === "ERROR" || body === undefined || body === null;
    if (failed) {
      signalErrors.push({
        code: signal.code,
        name: wellFormed(signal.name ?? null),
        group: wellFormed(signal.group ?? null),
        errorType: wellFormed(signal.status?.error?.type ?? "UNKNOWN"),
        errorCode: wellFormed(signal.status?.error?.code ?? null),
      });
    } else {
      readings.push(readingOf(signal, body, `data.signals[${index}]`));
    }
  });

  const retrievals = readings.map((r) => r.retrievedAt?.getTime() ?? 0).filter((t) => t > 0);
  const reportedAt = retrievals.length > 0 ? new Date(Math.max(...retrievals)) : envelope.deliveredAt;
  const vin = vehicle.vin ?? vinFromSignals(readings);
  return {
    kind: "VEHICLE_STATE",
    envelope,
    vehicle: { ...vehicle, vin },
    readings,
    signalErrors,
    triggers: triggersOf(delivery),
    reportedAt,
  };
}

function normalizeVehicleError(delivery: DeliveryDto): NormalizedDelivery {
  const envelope = envelopeOf(delivery, "VEHICLE_ERROR");
  const errors = delivery.data?.errors ?? delivery.errors;
  if (errors === undefined) throw new UnprocessableEntity("errors (under data or at the top level) is required for VEHICLE_ERROR");
  const field = delivery.data?.errors ? "data.errors" : "errors";
  return {
    kind: "VEHICLE_ERROR",
    envelope,
    vehicle: vehicleOf(delivery.data, delivery.vehicleId),
    reports: errors.map((error, index) => reportOf(error, `${field}[${index}]`)),
  };
}

function envelopeOf(delivery: DeliveryDto, eventType: Envelope["eventType"]): Envelope {
  const meta: MetaDto = delivery.meta ?? {};
  return {
    eventId: delivery.eventId,
    eventType,
    mode: modeOf(meta.mode),
    version: wellFormed(meta.version ?? null),
    webhookId: wellFormed(meta.webhookId ?? null),
    deliveryId: wellFormed(meta.deliveryId ?? null),
    deliveredAt: timestamp(meta.deliveredAt, "meta.deliveredAt"),
  };
}

/** A missing mode is LIVE (contract); only TEST keeps a delivery away from live state. */
function modeOf(mode: string | undefined): DeliveryMode {
  return mode?.toUpperCase() === "TEST" ? "TEST" : "LIVE";
}

function vehicleOf(data: DataDto | undefined, topLevelVehicleId: string | null | undefined): VehicleInfo | null {
  const vehicle: VehicleDto | undefined = data?.vehicle;
  const id = vehicle?.id ?? topLevelVehicleId;
  // `vehicleId: null` (IsOptional lets it through) names no vehicle, as a missing one does.
  if (id === undefined || id === null || id === "") return null;
  return {
    id,
    userId: data?.user?.id ?? null,
    make: wellFormed(vehicle?.make ?? null),
    model: wellFormed(vehicle?.model ?? null),
    year: vehicle?.year ?? null,
    vin: wellFormed(vehicle?.vin ?? null),
  };
}

function readingOf(signal: SignalDto, rawBody: unknown, path: string): SignalReadingInput {
  const body = wellFormedJson(rawBody);
  const retrievedAtField = signal.meta?.retrievedAt !== undefined ? "retrievedAt" : "fetchedAt";
  return {
    code: signal.code,
    name: wellFormed(signal.name ?? null),
    group: wellFormed(signal.group ?? null),
    body,
    value: numericValue(body),
    unit: unitOf(body),
    oemUpdatedAt: timestamp(signal.meta?.oemUpdatedAt, `${path}.meta.oemUpdatedAt`),
    retrievedAt: timestamp(signal.meta?.retrievedAt ?? signal.meta?.fetchedAt, `${path}.meta.${retrievedAtField}`),
  };
}

function vinFromSignals(readings: readonly SignalReadingInput[]): string | null {
  const body = readings.find((r) => r.code === "vehicleidentification-vin")?.body as { value?: unknown } | undefined;
  return typeof body?.value === "string" ? body.value : null;
}

function reportOf(error: ErrorReportDto, path: string): IssueReport {
  return {
    type: error.type,
    code: error.code ?? null,
    state: error.state ?? "ERROR",
    description: wellFormed(error.description ?? null),
    suggestedUserMessage: wellFormed(error.suggestedUserMessage ?? null),
    docUrl: wellFormed(error.docURL ?? null),
    resolutionType: wellFormed(error.resolution?.type ?? null),
    signalCodes: (error.signals ?? []).map((signal, index) => signalCodeOf(signal, `${path}.signals[${index}]`)),
  };
}

/**
 * `{code, name, group}`, `{code}` or a "Group.Name" string; the code wins (one capture swaps name and
 * group). A code is an identifier: an unpaired surrogate is refused, not replaced (see IsIdentifier).
 */
function signalCodeOf(signal: unknown, path: string): string {
  const code = signalReferenceOf(signal);
  if (code === undefined) throw new UnprocessableEntity(`${path}: must be a signal code object or a "Group.Name" string`);
  if (UNPAIRED_SURROGATE.test(code)) throw new UnprocessableEntity(`${path}: must not contain an unpaired UTF-16 surrogate`);
  return code;
}

function signalReferenceOf(signal: unknown): string | undefined {
  if (typeof signal === "string" && signal !== "") return codeFromGroupName(signal);
  if (typeof signal === "object" && signal !== null) {
    const { code, name, group } = signal as Record<string, unknown>;
    if (typeof code === "string" && code !== "") return code;
    if (typeof name === "string" && typeof group === "string") return codeFromGroupName(`${group}.${name}`);
  }
  return undefined;
}

/** Triggers at the top level or under `data`, as `{type, signal}`, `{code}`, `{type}` or strings. */
function triggersOf(delivery: DeliveryDto): Trigger[] {
  const raw = delivery.triggers ?? delivery.data.triggers ?? [];
  return raw.flatMap((item): Trigger[] => {
    if (typeof item === "string") return [{ type: "SIGNAL_UPDATED", code: codeFromGroupName(item) }];
    if (typeof item !== "object" || item === null) return [];
    const { type, code, signal } = item as Record<string, unknown>;
    if (code === "FIRST_DELIVERY" || type === "FIRST_DELIVERY") return [{ type: "FIRST_DELIVERY", code: null }];
    const signalCode =
      typeof code === "string"
        ? code
        : typeof signal === "string"
          ? codeFromGroupName(signal)
          : typeof (signal as { code?: unknown } | undefined)?.code === "string"
            ? (signal as { code: string }).code
            : null;
    return [{ type: typeof type === "string" ? type : "SIGNAL_UPDATED", code: signalCode }];
  });
}

/**
 * Smartcar writes epoch ms (once seconds) or ISO text; `0` means "no timestamp" (static attributes).
 * A usable time lies in the years 1 to 9999 (UTC): what `toISOString` writes with four digits and
 * PostgreSQL's timestamptz reads back (it has no year 0, and refuses the ISO form of earlier years).
 */
function timestamp(value: number | string | undefined, path: string): Date | null {
  if (value === undefined || value === 0) return null;
  // 1e11 ms is 1973: anything smaller is an epoch in seconds, as in one old example (1700000000).
  const ms = typeof value === "number" ? (value < 1e11 ? value * 1000 : value) : Date.parse(value);
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1 || year > 9999) {
    throw new UnprocessableEntity(`${path}: not a usable timestamp (years 1 to 9999 UTC)`);
  }
  return date;
}
