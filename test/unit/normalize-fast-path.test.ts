import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { normalizeDelivery } from "../../src/webhooks/normalize";
import { isPlainVehicleState } from "../../src/webhooks/plain-vehicle-state";

/** What a body normalises to, or the 422 it gets. */
function outcome(json: unknown, fastPath: boolean): unknown {
  try {
    return { delivery: normalizeDelivery(json, { fastPath }) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const FIXTURES = path.join(__dirname, "..", "fixtures");

/** A 4.0 VEHICLE_STATE delivery as Smartcar sends it, one signal failed. */
const base = () => ({
  eventId: "5a537912-9ad3-424b-ba33-65a1704567e9",
  eventType: "VEHICLE_STATE",
  data: {
    user: { id: "93b3ee2d-2ecb-4d4c-bd9a-6b7bd4b3ad1f" },
    vehicle: { id: "f2c4b8a4-0c42-4b13-9a55-6ae4c7c0d9f1", make: "TESLA", model: "Model 3", year: 2024, vin: "5YJ3E1EA7KF000000" },
    signals: [
      {
        code: "tractionbattery-stateofcharge",
        name: "StateOfCharge",
        group: "TractionBattery",
        body: { unit: "percent", value: 81 },
        status: { value: "SUCCESS" },
        meta: { oemUpdatedAt: 1764410000000, retrievedAt: "2026-11-29T10:00:00.000Z" },
      },
      { code: "odometer-traveleddistance", name: "TraveledDistance", group: "Odometer", status: { value: "ERROR", error: { type: "COMPATIBILITY", code: null } } },
    ],
    triggers: [{ type: "SIGNAL_UPDATED", signal: { code: "tractionbattery-stateofcharge" } }],
  },
  meta: { version: "4.0", deliveryId: "d1", deliveredAt: 1764410001000, webhookId: "w1", webhookName: "fleet", mode: "LIVE", signalCount: 2 },
});

const PATHS = [
  "eventId", "eventType", "vehicleId", "errors", "triggers", "meta", "meta.version", "meta.mode", "meta.deliveredAt", "meta.deliveryId",
  "data", "data.challenge", "data.user", "data.user.id", "data.vehicle", "data.vehicle.id", "data.vehicle.make", "data.vehicle.year",
  "data.vehicle.vin", "data.signals", "data.signals.0", "data.signals.0.code", "data.signals.0.name", "data.signals.0.group",
  "data.signals.0.body", "data.signals.0.status", "data.signals.0.status.value", "data.signals.0.meta", "data.signals.0.meta.oemUpdatedAt",
  "data.signals.0.meta.retrievedAt", "data.signals.0.meta.fetchedAt", "data.signals.1.status.error", "data.signals.1.status.error.code",
  "data.signals.1.status.error.type", "data.errors", "data.triggers", "eventName", "constructor", "data.signals.0.__proto__",
];
const VALUES: unknown[] = [
  undefined, null, "", "x", "a".repeat(201), "\ud800", "VERIFY", "VEHICLE_ERROR", "ERROR", "TEST", 0, -1, 1.5, 2 ** 31, 1e21, true,
  {}, [], [{}], [{ code: "a-b" }], "2026-01-01T00:00:00Z", "not a date", 1764410000000, { id: "v2" }, { id: "" }, { value: 1 },
];

/** Sets (or, for undefined, deletes) the value at a dotted path, creating objects on the way. */
function mutate(json: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split(".");
  let node: Record<string, unknown> = json;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) return;
    node = node[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete node[last];
  else Object.defineProperty(node, last, { value: structuredClone(value), enumerable: true, writable: true, configurable: true });
}

describe("the fast path of webhook validation", () => {
  it("takes the plain VEHICLE_STATE Smartcar sends", () => {
    expect(isPlainVehicleState(base())).toBe(true);
  });

  it.each(fs.readdirSync(FIXTURES).filter((name) => name.endsWith(".json")))("normalises %s as the full validation does", (name) => {
    const json: unknown = JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8"));
    expect(outcome(json, true)).toEqual(outcome(json, false));
  });

  it("normalises every mutated delivery as the full validation does, or refuses it with the same message", () => {
    const mutation = fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom(...VALUES));
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const json = base() as Record<string, unknown>;
        for (const [dotted, value] of mutations) mutate(json, dotted, value);
        // Through JSON, as the router parses it (a `__proto__` key stays plain data).
        const parsed: unknown = JSON.parse(JSON.stringify(json));
        expect(outcome(parsed, true)).toEqual(outcome(parsed, false));
      }),
      { numRuns: 2000 },
    );
  });
});
