/** Body fields that hold a signal's numeric value, in order of preference (§5.1 body families). */
const NUMERIC_FIELDS = ["value", "percentage", "capacity"] as const;

/** The body's numeric value where it has one: `{value: 78}`, the 3.0 `{percentage: 75}`, capacities. */
export function numericValue(body: unknown): number | null {
  if (typeof body !== "object" || body === null) return null;
  const record = body as Record<string, unknown>;
  for (const field of NUMERIC_FIELDS) {
    const value = record[field];
    if (typeof value === "number" && Number.isFinite(value)) return value;
  }
  return null;
}

/** The body's unit, where it names one (units are free text: "percent", "km", "kWh" ...). */
export function unitOf(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const { unit } = body as Record<string, unknown>;
  if (typeof unit === "string" && unit !== "") return unit;
  return "percentage" in body ? "percent" : null;
}

/** `"Odometer.TraveledDistance"` (payload 3.0 references) → `odometer-traveleddistance`. */
export function codeFromGroupName(reference: string): string {
  return reference.replace(".", "-").toLowerCase();
}
