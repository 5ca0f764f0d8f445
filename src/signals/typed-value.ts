/** What a signal body holds (contract, GraphQL: SignalValueKind). */
export enum SignalValueKind {
  NUMBER = "NUMBER",
  BOOLEAN = "BOOLEAN",
  TEXT = "TEXT",
  LOCATION = "LOCATION",
  OBJECT = "OBJECT",
  NULL = "NULL",
}

export interface TypedLocation {
  readonly latitude: number;
  readonly longitude: number;
  readonly heading: number | null;
  readonly direction: string | null;
  readonly locationType: string | null;
}

/** A body's kind and its one typed value; the fields of the other kinds are null. */
export interface TypedValue {
  readonly kind: SignalValueKind;
  readonly number: number | null;
  readonly boolean: boolean | null;
  readonly text: string | null;
  readonly location: TypedLocation | null;
}

const NONE = { number: null, boolean: null, text: null, location: null } as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isFiniteNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** The `value` of `{value, unit?, ...}` (Smartcar's Quantity, Boolean and String families). */
function ofScalar(value: unknown): TypedValue | undefined {
  if (value === null || value === undefined) return { kind: SignalValueKind.NULL, ...NONE };
  if (isFiniteNumber(value)) return { kind: SignalValueKind.NUMBER, ...NONE, number: value };
  if (typeof value === "boolean") return { kind: SignalValueKind.BOOLEAN, ...NONE, boolean: value };
  if (typeof value === "string") return { kind: SignalValueKind.TEXT, ...NONE, text: value };
  return undefined;
}

/**
 * The kind of a signal body, from its shape as Smartcar documents it (smartcar.md §5.1):
 * `{value: 75, unit}` and the 3.0 `{percentage: 75}` are NUMBER, `{value: true}` BOOLEAN,
 * `{value: "CHARGING"}` TEXT, `{latitude, longitude, heading?, direction?, locationType?}` with
 * coordinates on Earth LOCATION, null, absent or `{value: null}` NULL, and anything else (lists,
 * `{isOpen, isLocked}`, `{capacity, ...}`, a bare scalar) OBJECT. A NUMBER's number is the `value`
 * column's (numericValue), so numeric filters on that column match exactly the NUMBER values. The migration that added `signals.kind`
 * (migrations/1796100000000-TypedSignalValues.ts) backfills with the same rules in SQL.
 */
export function typedValue(body: unknown): TypedValue {
  if (body === null || body === undefined) return { kind: SignalValueKind.NULL, ...NONE };
  // A bare scalar or a list is no shape Smartcar documents: its `value` column is null too (numericValue).
  if (!isRecord(body)) return { kind: SignalValueKind.OBJECT, ...NONE };
  if ("value" in body) return ofScalar(body.value) ?? { kind: SignalValueKind.OBJECT, ...NONE };
  if (isFiniteNumber(body.percentage)) return { kind: SignalValueKind.NUMBER, ...NONE, number: body.percentage };
  const { latitude, longitude, heading, direction, locationType } = body;
  if (isFiniteNumber(latitude) && isFiniteNumber(longitude) && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180) {
    const location = {
      latitude,
      longitude,
      heading: isFiniteNumber(heading) ? heading : null,
      direction: typeof direction === "string" ? direction : null,
      locationType: typeof locationType === "string" ? locationType : null,
    };
    return { kind: SignalValueKind.LOCATION, ...NONE, location };
  }
  return { kind: SignalValueKind.OBJECT, ...NONE };
}
