import fs from "node:fs";
import path from "node:path";
import { numericValue } from "../../src/signals/signal-value";
import { SignalValueKind, typedValue } from "../../src/signals/typed-value";
import { normalizeDelivery } from "../../src/webhooks/normalize";
import type { VehicleStateDelivery } from "../../src/webhooks/normalized-delivery";

const FIXTURES = path.join(__dirname, "..", "fixtures");
const { NUMBER, BOOLEAN, TEXT, LOCATION, OBJECT, NULL } = SignalValueKind;

/** Every signal body of every VEHICLE_STATE fixture (real and documented payloads), by code. */
function fixtureBodies(): Map<string, unknown[]> {
  const bodies = new Map<string, unknown[]>();
  for (const name of fs.readdirSync(FIXTURES).filter((file) => file.endsWith(".json"))) {
    const delivery = normalizeDelivery(JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")));
    if (delivery.kind !== "VEHICLE_STATE") continue;
    for (const reading of (delivery as VehicleStateDelivery).readings) bodies.set(reading.code, [...(bodies.get(reading.code) ?? []), reading.body]);
  }
  return bodies;
}

describe("typedValue", () => {
  it("classifies every signal body of the fixtures by its documented shape", () => {
    const expected: Record<string, SignalValueKind> = {
      "charge-chargelimits": OBJECT,
      "charge-ischarging": BOOLEAN,
      "charge-voltage": NUMBER,
      "closure-islocked": BOOLEAN,
      "connectivitystatus-isasleep": BOOLEAN,
      "connectivitystatus-isdigitalkeypaired": BOOLEAN,
      "connectivitystatus-isonline": BOOLEAN,
      "internalcombustionengine-amountremaining": NUMBER,
      "location-preciselocation": LOCATION,
      "odometer-traveleddistance": NUMBER,
      "tractionbattery-nominalcapacity": OBJECT,
      "tractionbattery-stateofcharge": NUMBER,
      "vehicleidentification-nickname": TEXT,
      "vehicleidentification-vin": TEXT,
    };
    const bodies = fixtureBodies();
    expect([...bodies.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [code, list] of bodies) {
      for (const body of list) expect([code, typedValue(body).kind]).toEqual([code, expected[code]]);
    }
  });

  it.each([
    ["Quantity {value, unit}", { unit: "percent", value: 78 }, { kind: NUMBER, number: 78 }],
    ["3.0 {percentage}", { percentage: 75 }, { kind: NUMBER, number: 75 }],
    ["Range with variants", { value: 320, unit: "km", type: "DEFAULT", additionalValues: [] }, { kind: NUMBER, number: 320 }],
    ["Boolean {value}", { value: false }, { kind: BOOLEAN, boolean: false }],
    ["String/enum {value}", { value: "CHARGING" }, { kind: TEXT, text: "CHARGING" }],
    ["empty text", { value: "" }, { kind: TEXT, text: "" }],
    ["{value: null}", { value: null }, { kind: NULL }],
    ["null", null, { kind: NULL }],
    ["absent", undefined, { kind: NULL }],
    ["List {values}", { values: [{ row: 0, column: 0, isOpen: false }], rowCount: 1, columnCount: 1 }, { kind: OBJECT }],
    ["Unwrapped object", { isOpen: false, isLocked: null }, { kind: OBJECT }],
    ["diagnostics", { status: "OK", description: "fine" }, { kind: OBJECT }],
    ["{value: object}", { value: { nested: 1 } }, { kind: OBJECT }],
    ["{value: list}", { value: [1, 2] }, { kind: OBJECT }],
    ["a bare number", 5, { kind: OBJECT }],
    ["a list", [1], { kind: OBJECT }],
    ["text coordinates", { latitude: "51.5", longitude: "-0.14" }, { kind: OBJECT }],
    ["coordinates off Earth", { latitude: 91, longitude: 0 }, { kind: OBJECT }],
  ])("reads %s", (_name, body, expected) => {
    expect(typedValue(body)).toEqual({ number: null, boolean: null, text: null, location: null, ...expected });
  });

  it("reads a location with its optional parts, and without them", () => {
    expect(typedValue({ latitude: 51.5014, longitude: -0.1419, direction: "NE", heading: 45.3, locationType: "PARKED" }).location).toEqual({
      latitude: 51.5014,
      longitude: -0.1419,
      heading: 45.3,
      direction: "NE",
      locationType: "PARKED",
    });
    expect(typedValue({ latitude: -33.86, longitude: 151.2 })).toEqual({
      kind: LOCATION,
      number: null,
      boolean: null,
      text: null,
      location: { latitude: -33.86, longitude: 151.2, heading: null, direction: null, locationType: null },
    });
  });

  it("gives a NUMBER the number numericValue stores in `value`, which numeric filters read", () => {
    for (const body of [{ value: 1, percentage: 2 }, { percentage: 3 }, { value: 4.5, capacity: 9 }, { value: -0.25 }]) {
      expect(typedValue(body).number).toBe(numericValue(body));
    }
  });
});
