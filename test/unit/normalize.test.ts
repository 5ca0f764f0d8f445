import fs from "node:fs";
import path from "node:path";
import { UnprocessableEntity } from "../../src/errors";
import { normalizeDelivery } from "../../src/webhooks/normalize";
import type { VehicleErrorDelivery, VehicleStateDelivery } from "../../src/webhooks/normalized-delivery";

const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", name), "utf8"));

const state = (extra: Record<string, unknown> = {}, signals: unknown[] = [{ code: "a-b", body: { value: 1 } }]) => ({
  eventId: "e1",
  eventType: "VEHICLE_STATE",
  data: { user: { id: "u" }, vehicle: { id: "v" }, signals },
  ...extra,
});

describe("normalizeDelivery", () => {
  it.each([
    ["top-level {type, signal: {code}}", { triggers: [{ type: "SIGNAL_UPDATED", signal: { code: "charge-amperage", name: "Amperage" } }] }, [{ type: "SIGNAL_UPDATED", code: "charge-amperage" }]],
    ["top-level string signal refs", { triggers: [{ type: "SIGNAL_UPDATED", signal: "Odometer.TraveledDistance" }] }, [{ type: "SIGNAL_UPDATED", code: "odometer-traveleddistance" }]],
    ["bare string refs", { triggers: ["Charge.IsCharging"] }, [{ type: "SIGNAL_UPDATED", code: "charge-ischarging" }]],
    ["{type: FIRST_DELIVERY}", { triggers: [{ type: "FIRST_DELIVERY" }] }, [{ type: "FIRST_DELIVERY", code: null }]],
  ])("reads triggers written as %s", (_name, extra, expected) => {
    expect((normalizeDelivery(state(extra)) as VehicleStateDelivery).triggers).toEqual(expected);
  });

  it("reads data.triggers with {code} and the FIRST_DELIVERY code", () => {
    const delivery = normalizeDelivery(fixture("docs-4.0-first-delivery-fetched-at.json")) as VehicleStateDelivery;
    expect(delivery.triggers).toEqual([{ type: "FIRST_DELIVERY", code: null }]);
    // `fetchedAt` is the older name of retrievedAt.
    expect(delivery.readings[0].retrievedAt).toEqual(new Date(1731926102000));
  });

  it.each([
    [1761896351529, new Date(1761896351529)],
    ["2025-10-17T01:38:11.694Z", new Date("2025-10-17T01:38:11.694Z")],
    [1700000000, new Date(1700000000 * 1000)],
  ])("reads meta.deliveredAt %j", (deliveredAt, expected) => {
    expect((normalizeDelivery(state({ meta: { deliveredAt } })) as VehicleStateDelivery).envelope.deliveredAt).toEqual(expected);
  });

  it("treats oemUpdatedAt 0 as no timestamp, a missing mode as LIVE and a signal without status as good", () => {
    const delivery = normalizeDelivery(state({}, [{ code: "vehicleidentification-vin", body: { value: "VIN1" }, meta: { oemUpdatedAt: 0, retrievedAt: 5e12 } }])) as VehicleStateDelivery;
    expect(delivery.readings[0]).toMatchObject({ oemUpdatedAt: null, retrievedAt: new Date(5e12) });
    expect(delivery.envelope.mode).toBe("LIVE");
    expect(delivery.vehicle.vin).toBe("VIN1");
  });

  it("splits failed signals from good ones, with their error type and code", () => {
    const delivery = normalizeDelivery(fixture("docs-4.0-vehicle-state-with-signal-error.json")) as VehicleStateDelivery;
    expect(delivery.readings.map((r) => r.code)).toEqual(["location-preciselocation", "tractionbattery-stateofcharge"]);
    expect(delivery.signalErrors).toEqual([
      { code: "location-isathome", name: "IsAtHome", group: "Location", errorType: "COMPATIBILITY", errorCode: "VEHICLE_NOT_CAPABLE" },
    ]);
  });

  it("reads VEHICLE_ERROR errors under data or at the top level (without a vehicle)", () => {
    const nested = normalizeDelivery(fixture("real-unversioned-vw-error-string-signals.json")) as VehicleErrorDelivery;
    expect(nested.vehicle?.id).toBe("a1d50709-3502-4faa-ba43-a5c7565e6a09");
    expect(nested.reports[1]).toMatchObject({ type: "PERMISSION", code: null, state: "ERROR", signalCodes: ["closure-islocked"] });
    const topLevel = normalizeDelivery(fixture("docs-vehicle-error-top-level.json")) as VehicleErrorDelivery;
    expect(topLevel.vehicle).toBeNull();
    expect(topLevel.reports[0]).toMatchObject({ type: "COMPATIBILITY", state: "ERROR" });
  });

  it("answers VERIFY with nothing but eventType and data.challenge", () => {
    expect(normalizeDelivery({ eventType: "VERIFY", data: { challenge: "abc" } })).toEqual({ kind: "VERIFY", challenge: "abc" });
  });

  it.each([
    ["eventId", { eventType: "VEHICLE_STATE", data: { vehicle: { id: "v" }, signals: [] } }],
    ["data.signals[0].code", state({}, [{ body: {} }])],
    ["meta.deliveredAt", state({ meta: { deliveredAt: "yesterday" } })],
    ["errors", { eventId: "e", eventType: "VEHICLE_ERROR", data: { vehicle: { id: "v" } } }],
    ["errors[0].state", { eventId: "e", eventType: "VEHICLE_ERROR", errors: [{ type: "X", state: "MAYBE" }] }],
  ])("refuses a delivery whose %s is missing or wrong, naming it", (field, json) => {
    expect(() => normalizeDelivery(json)).toThrow(UnprocessableEntity);
    expect(() => normalizeDelivery(json)).toThrow(field);
  });
});
