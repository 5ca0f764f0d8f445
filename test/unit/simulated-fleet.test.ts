import { SeededRandom } from "../../src/cli/seeded-random";
import { SimulatedFleet } from "../../src/cli/simulated-fleet";
import type { SmartcarEvent } from "../../src/cli/smartcar-webhook";

/** `fleetgraph simulate`'s fleet: repeatable for a seed, and physically plausible step to step. */
describe("the simulated fleet", () => {
  const run = (seed: string, vehicles: number, steps: number): SmartcarEvent[] => {
    const fleet = new SimulatedFleet(new SeededRandom(seed), vehicles);
    const events: SmartcarEvent[] = [];
    for (let i = 0; i < steps; i++) events.push(...fleet.next(1_800_000_000_000 + i * 1000));
    return events;
  };
  /** An event without what changes from run to run: its id and the real-time stamps. */
  const content = (event: SmartcarEvent) =>
    event.eventType === "VEHICLE_ERROR"
      ? { vehicle: event.vehicle.id, errors: event.errors }
      : { vehicle: event.vehicle.id, triggers: event.triggers, signals: event.signals.map((signal) => ("body" in signal ? [signal.code, signal.body] : [signal.code, signal.error])) };
  const values = (events: SmartcarEvent[], vehicleId: string, code: string) =>
    events.flatMap((event) =>
      event.eventType === "VEHICLE_STATE" && event.vehicle.id === vehicleId
        ? event.signals.flatMap((signal) => (signal.code === code && "body" in signal ? [signal.body as Record<string, unknown>] : []))
        : [],
    );

  it("is the same fleet and the same story for the same seed, and another for another seed", () => {
    expect(run("a", 4, 200).map(content)).toEqual(run("a", 4, 200).map(content));
    expect(run("b", 4, 200).map(content)).not.toEqual(run("a", 4, 200).map(content));
  });

  it("gives each vehicle its own user", () => {
    const fleet = new SimulatedFleet(new SeededRandom("users"), 20);
    expect(new Set(fleet.members.map((vehicle) => vehicle.userId)).size).toBe(20);
    expect(new Set(fleet.members.map((vehicle) => vehicle.id)).size).toBe(20);
  });

  it("charges while plugged in, uses charge and moves while driving, and never runs the odometer back", () => {
    const events = run("physics", 5, 1000);
    const fleet = new SimulatedFleet(new SeededRandom("physics"), 5);
    let charged = 0;
    let drove = 0;
    for (const vehicle of fleet.members) {
      const soc = values(events, vehicle.id, "tractionbattery-stateofcharge").map((body) => body.value as number);
      const status = values(events, vehicle.id, "charge-detailedchargingstatus").map((body) => body.value);
      const odometer = values(events, vehicle.id, "odometer-traveleddistance").map((body) => body.value as number);
      const speed = values(events, vehicle.id, "motion-currentspeed").map((body) => body.value as number);
      const location = values(events, vehicle.id, "location-preciselocation");
      for (let i = 1; i < soc.length; i++) {
        expect(odometer[i]).toBeGreaterThanOrEqual(odometer[i - 1]);
        if (status[i] === "CHARGING" && status[i - 1] === "CHARGING") {
          expect(soc[i]).toBeGreaterThanOrEqual(soc[i - 1]);
          charged += soc[i] > soc[i - 1] ? 1 : 0;
        }
        if (speed[i] > 0) {
          expect(status[i]).toBe("NOT_CHARGING");
          expect(odometer[i]).toBeGreaterThan(odometer[i - 1]);
          expect(location[i]).not.toEqual(location[i - 1]);
          drove += soc[i] < soc[i - 1] ? 1 : 0;
        }
        expect(soc[i]).toBeGreaterThanOrEqual(0);
        expect(soc[i]).toBeLessThanOrEqual(100);
      }
    }
    expect(charged).toBeGreaterThan(10);
    expect(drove).toBeGreaterThan(10);
  });

  it("sends booleans, text, incapable signals, and errors that later resolve", () => {
    const events = run("kinds", 5, 400);
    const states = events.filter((event) => event.eventType === "VEHICLE_STATE");
    const signals = states.flatMap((event) => event.signals);
    expect(signals.some((signal) => signal.code === "closure-islocked" && "body" in signal && typeof (signal.body as { value: unknown }).value === "boolean")).toBe(true);
    expect(signals.some((signal) => "error" in signal && signal.error.code === "VEHICLE_NOT_CAPABLE")).toBe(true);
    const islocked = new Set(signals.flatMap((signal) => (signal.code === "closure-islocked" && "body" in signal ? [(signal.body as { value: boolean }).value] : [])));
    expect(islocked).toEqual(new Set([true, false]));
    const statuses = new Set(signals.flatMap((signal) => (signal.code === "charge-detailedchargingstatus" && "body" in signal ? [(signal.body as { value: string }).value] : [])));
    expect(statuses).toEqual(new Set(["CHARGING", "NOT_CHARGING", "FULLY_CHARGED"]));
    // The first delivery of each vehicle says so, the later ones name what changed.
    expect(states.filter((event) => event.triggers === "FIRST_DELIVERY")).toHaveLength(5);
    for (const vehicleId of new Set(events.map((event) => event.vehicle.id))) {
      const reports = events.flatMap((event) => (event.eventType === "VEHICLE_ERROR" && event.vehicle.id === vehicleId ? event.errors : []));
      expect(reports[0]?.state).toBe("ERROR");
      expect(reports[1]).toMatchObject({ type: reports[0].type, code: reports[0].code, state: "RESOLVED" });
    }
  });
});
