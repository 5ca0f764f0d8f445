import { randomUUID } from "node:crypto";
import { SeededRandom } from "./seeded-random";
import type { ErrorEntry, SignalEntry, SignalRef, SmartcarEvent, VehicleRef } from "./smartcar-webhook";

/**
 * A fleet of electric (and one plug-in hybrid) vehicles living their lives: parked, driving trips that
 * move their location and odometer, charging along a curve that tapers above 80 %, plugged in when
 * full. Each step is STEP_MINUTES of a vehicle's life, so a short run shows whole charging sessions;
 * readings are stamped with the real time of the step, so the service orders them as live data.
 *
 * Everything is drawn from one seeded random source: the same seed gives the same vehicles, users and
 * scenario (event ids are fresh on every run, so a second run against the same database is new data).
 */

export const STEP_MINUTES = 5;

/** The signals the simulated webhook is configured with: every VEHICLE_STATE carries all of them. */
const SIGNALS = {
  stateOfCharge: { code: "tractionbattery-stateofcharge", name: "StateOfCharge", group: "TractionBattery" },
  range: { code: "tractionbattery-range", name: "Range", group: "TractionBattery" },
  odometer: { code: "odometer-traveleddistance", name: "TraveledDistance", group: "Odometer" },
  speed: { code: "motion-currentspeed", name: "CurrentSpeed", group: "Motion" },
  location: { code: "location-preciselocation", name: "PreciseLocation", group: "Location" },
  isCharging: { code: "charge-ischarging", name: "IsCharging", group: "Charge" },
  cableConnected: { code: "charge-ischargingcableconnected", name: "IsChargingCableConnected", group: "Charge" },
  chargingStatus: { code: "charge-detailedchargingstatus", name: "DetailedChargingStatus", group: "Charge" },
  wattage: { code: "charge-wattage", name: "Wattage", group: "Charge" },
  isLocked: { code: "closure-islocked", name: "IsLocked", group: "Closure" },
  outsideTemperature: { code: "climate-externaltemperature", name: "ExternalTemperature", group: "Climate" },
  fuelLevel: { code: "internalcombustionengine-fuellevel", name: "FuelLevel", group: "InternalCombustionEngine" },
  firmware: { code: "connectivitysoftware-currentfirmwareversion", name: "CurrentFirmwareVersion", group: "ConnectivitySoftware" },
  vin: { code: "vehicleidentification-vin", name: "VIN", group: "VehicleIdentification" },
} satisfies Record<string, SignalRef>;

type SignalName = keyof typeof SIGNALS;

interface Profile {
  readonly make: string;
  readonly model: string;
  readonly year: number;
  readonly batteryKwh: number;
  readonly kwhPerKm: number;
  readonly maxChargeKw: number;
  readonly wmiVin: string;
  /** Configured signals this model cannot provide: Smartcar reports COMPATIBILITY / VEHICLE_NOT_CAPABLE. */
  readonly notCapable: readonly SignalName[];
  readonly firmware?: string;
  readonly hybrid?: boolean;
}

/** Models seen in real captured deliveries (see test/fixtures and the Smartcar notes). */
const PROFILES: readonly Profile[] = [
  { make: "TESLA", model: "Model 3", year: 2022, batteryKwh: 75, kwhPerKm: 0.15, maxChargeKw: 170, wmiVin: "5YJ3E1EA", notCapable: ["fuelLevel"], firmware: "2026.32.5" },
  { make: "BYD", model: "Seal U DM-i", year: 2025, batteryKwh: 26.6, kwhPerKm: 0.19, maxChargeKw: 18, wmiVin: "LGXCE4CB", notCapable: ["firmware", "wattage"], hybrid: true },
  { make: "VOLKSWAGEN", model: "ID.4", year: 2021, batteryKwh: 77, kwhPerKm: 0.18, maxChargeKw: 125, wmiVin: "WVGZZZE2", notCapable: ["fuelLevel", "firmware"] },
  { make: "POLESTAR", model: "2", year: 2023, batteryKwh: 78, kwhPerKm: 0.19, maxChargeKw: 155, wmiVin: "LPSVSEDE", notCapable: ["fuelLevel"], firmware: "P3.0.12" },
  { make: "JAGUAR", model: "I-PACE", year: 2020, batteryKwh: 84.7, kwhPerKm: 0.22, maxChargeKw: 100, wmiVin: "SADHA2B1", notCapable: ["fuelLevel", "wattage"], firmware: "L8B2-70712-AAE" },
];

/** Where the vehicles live: trips wander around these centres. */
const CITIES = [
  { latitude: 52.3676, longitude: 4.9041 },
  { latitude: 52.52, longitude: 13.405 },
  { latitude: 48.8566, longitude: 2.3522 },
  { latitude: 59.9139, longitude: 10.7522 },
  { latitude: 37.7749, longitude: -122.4194 },
];

/** Errors that come and go (VEHICLE_ERROR with state ERROR, later RESOLVED). */
const TRANSIENT_ERRORS: ReadonlyArray<Omit<ErrorEntry, "state" | "signals"> & { signals: readonly SignalName[] }> = [
  {
    type: "VEHICLE_STATE",
    code: "UNREACHABLE",
    description: "The vehicle was unable to perform your request because it is currently unreachable.",
    suggestedUserMessage: "Your vehicle is currently unreachable. Ensure the vehicle has adequate mobile coverage.",
    resolutionType: "RETRY_LATER",
    signals: ["location", "stateOfCharge", "odometer"],
  },
  {
    type: "VEHICLE_STATE",
    code: "ASLEEP",
    description: "The vehicle is in a sleep state and temporarily unable to perform your request.",
    suggestedUserMessage: "Your vehicle is in a sleep state. Wake it up from the manufacturer's app and try again.",
    resolutionType: "RETRY_LATER",
    signals: ["location"],
  },
  {
    type: "CONNECTED_SERVICES_ACCOUNT",
    code: "ACCOUNT_ISSUE",
    description: "Action required in the user's connected services account.",
    suggestedUserMessage: "Action required in your connected services account. Please log in to your manufacturer's app.",
    resolutionType: null,
    signals: [],
  },
];

type Activity = "PARKED" | "DRIVING" | "CHARGING" | "PLUGGED_FULL";

const DIRECTIONS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];

export interface FleetVehicle extends VehicleRef {
  readonly vin: string;
}

class SimulatedVehicle {
  readonly ref: FleetVehicle;
  private activity: Activity;
  private stepsLeft: number;
  private soc: number;
  private fuel: number;
  private odometerKm: number;
  private speedKph = 0;
  private latitude: number;
  private longitude: number;
  private heading: number;
  private locked = true;
  private chargerKw = 0;
  private chargeLimit: number;
  private outsideC: number;
  /** The last step's readings, to tell which signals changed (the triggers). */
  private previous = new Map<string, string>();
  private steps = 0;
  private firstSent = false;
  private lastObservedAt = 0;
  private nextErrorAtStep: number;
  private error: { entry: (typeof TRANSIENT_ERRORS)[number]; stepsLeft: number } | undefined;

  constructor(
    private readonly random: SeededRandom,
    private readonly profile: Profile,
    index: number,
  ) {
    const city = CITIES[index % CITIES.length];
    this.ref = {
      id: random.uuid(),
      userId: random.uuid(),
      make: profile.make,
      model: profile.model,
      year: profile.year,
      vin: `${profile.wmiVin}${String(random.integer(0, 999_999_999)).padStart(9, "0")}`,
    };
    this.latitude = city.latitude + random.between(-0.05, 0.05);
    this.longitude = city.longitude + random.between(-0.05, 0.05);
    this.heading = random.between(0, 360);
    this.soc = Math.round(random.between(20, 90));
    this.fuel = Math.round(random.between(30, 100));
    this.odometerKm = Math.round(random.between(2_000, 60_000) * 10) / 10;
    this.chargeLimit = random.pick([80, 90, 100]);
    this.outsideC = Math.round(random.between(2, 24));
    this.activity = random.pick<Activity>(["PARKED", "DRIVING", "CHARGING"]);
    this.stepsLeft = random.integer(1, 4);
    if (this.activity === "CHARGING") this.plugIn();
    // The first error comes early, so even a few seconds' run shows an issue opening and resolving.
    this.nextErrorAtStep = random.integer(2, 4);
  }

  /** One step of this vehicle's life and the events Smartcar would deliver for it (possibly none). */
  step(now: number): SmartcarEvent[] {
    this.steps += 1;
    this.live();
    const events: SmartcarEvent[] = [];
    if (this.error) {
      this.error.stepsLeft -= 1;
      if (this.error.stepsLeft > 0) return []; // unreachable: nothing arrives until it resolves
      events.push(this.vehicleError("RESOLVED", this.error.entry));
      this.error = undefined;
      this.nextErrorAtStep = this.steps + this.random.integer(12, 40);
    } else if (this.steps === this.nextErrorAtStep) {
      const entry = this.random.pick(TRANSIENT_ERRORS);
      this.error = { entry, stepsLeft: this.random.integer(2, 4) };
      return [this.vehicleError("ERROR", entry)];
    }
    events.push(this.vehicleState(now));
    return events;
  }

  /** Advances the physics by one step. */
  private live(): void {
    const hours = STEP_MINUTES / 60;
    this.outsideC = Math.round((this.outsideC + this.random.between(-0.6, 0.6)) * 10) / 10;
    this.stepsLeft -= 1;
    switch (this.activity) {
      case "PARKED": {
        this.speedKph = 0;
        this.locked = true;
        if (this.stepsLeft <= 0) {
          if (this.soc < 35) this.plugIn();
          else this.startTrip();
        }
        break;
      }
      case "DRIVING": {
        this.speedKph = Math.round(this.random.between(25, 120));
        const km = this.speedKph * hours;
        this.odometerKm = Math.round((this.odometerKm + km) * 10) / 10;
        const kwh = km * this.profile.kwhPerKm * (this.outsideC < 5 ? 1.2 : 1);
        if (this.profile.hybrid && this.soc <= 15) this.fuel = Math.max(0, Math.round((this.fuel - km * 0.06) * 10) / 10);
        else this.soc = Math.max(5, round1(this.soc - (kwh / this.profile.batteryKwh) * 100));
        this.move(km);
        if (this.stepsLeft <= 0 || this.soc <= 12) this.park(this.soc < 30);
        break;
      }
      case "CHARGING": {
        // Constant power to 80 %, then the taper every battery management system applies.
        const taper = this.soc < 80 ? 1 : Math.max(0.12, (100 - this.soc) / 20);
        const kw = this.chargerKw * taper;
        this.soc = Math.min(this.chargeLimit, round1(this.soc + ((kw * hours) / this.profile.batteryKwh) * 100));
        if (this.soc >= this.chargeLimit) {
          this.activity = "PLUGGED_FULL";
          this.stepsLeft = this.random.integer(1, 4);
        }
        break;
      }
      case "PLUGGED_FULL": {
        if (this.stepsLeft <= 0) this.park(false);
        break;
      }
    }
  }

  private startTrip(): void {
    this.activity = "DRIVING";
    this.stepsLeft = this.random.integer(2, 8);
    this.locked = false;
    this.heading = this.random.between(0, 360);
  }

  private park(thenCharge: boolean): void {
    this.speedKph = 0;
    if (thenCharge) {
      this.plugIn();
      return;
    }
    this.activity = "PARKED";
    this.stepsLeft = this.random.integer(1, 5);
    // Doors unlocked for a moment after parking; the car locks itself on the next step.
    this.locked = false;
  }

  private plugIn(): void {
    this.activity = "CHARGING";
    this.speedKph = 0;
    this.locked = true;
    // Home/work AC most of the time, a fast charger now and then.
    this.chargerKw = this.random.chance(0.3) ? this.profile.maxChargeKw : Math.min(11, this.profile.maxChargeKw);
  }

  private move(km: number): void {
    this.heading = (this.heading + this.random.between(-35, 35) + 360) % 360;
    const radians = (this.heading * Math.PI) / 180;
    this.latitude += (km * Math.cos(radians)) / 111.32;
    this.longitude += (km * Math.sin(radians)) / (111.32 * Math.cos((this.latitude * Math.PI) / 180));
  }

  private bodies(): Record<SignalName, unknown> {
    const charging = this.activity === "CHARGING";
    const plugged = charging || this.activity === "PLUGGED_FULL";
    const status = charging ? "CHARGING" : this.activity === "PLUGGED_FULL" ? "FULLY_CHARGED" : "NOT_CHARGING";
    return {
      stateOfCharge: { value: this.soc, unit: "percent" },
      range: { value: Math.round(((this.soc / 100) * this.profile.batteryKwh) / this.profile.kwhPerKm), unit: "km", type: "DEFAULT" },
      odometer: { value: this.odometerKm, unit: "km" },
      speed: { value: this.speedKph, unit: "kph" },
      location: {
        latitude: round6(this.latitude),
        longitude: round6(this.longitude),
        heading: Math.round(this.heading),
        direction: DIRECTIONS[Math.round(this.heading / 45) % 8],
        locationType: this.activity === "DRIVING" ? "CURRENT" : "LAST_PARKED",
      },
      isCharging: { value: charging },
      cableConnected: { value: plugged },
      chargingStatus: { value: status },
      wattage: { value: charging ? Math.round(this.chargerKw * 1000 * (this.soc < 80 ? 1 : 0.5)) : 0, unit: "watts" },
      isLocked: { value: this.locked },
      outsideTemperature: { value: this.outsideC, unit: "celsius" },
      fuelLevel: { value: this.fuel, unit: "percent" },
      firmware: { value: this.profile.firmware ?? "1.0.0" },
      vin: { value: this.ref.vin },
    };
  }

  private vehicleState(now: number): SmartcarEvent {
    // The vehicle recorded its values a moment before Smartcar read them; per vehicle, time moves on.
    const observedAt = Math.max(this.lastObservedAt + 1, now - this.random.integer(500, 3000));
    this.lastObservedAt = observedAt;
    const retrievedAt = Math.max(observedAt, now - this.random.integer(0, 400));
    const bodies = this.bodies();
    const signals: SignalEntry[] = [];
    const changed: SignalRef[] = [];
    for (const [name, ref] of Object.entries(SIGNALS) as Array<[SignalName, SignalRef]>) {
      if (this.profile.notCapable.includes(name)) {
        signals.push({ ...ref, error: { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE" } });
        continue;
      }
      const body = bodies[name];
      // Attributes (the VIN) carry oemUpdatedAt 0, as in real deliveries.
      signals.push({ ...ref, body, oemUpdatedAt: name === "vin" ? 0 : observedAt, retrievedAt });
      const text = JSON.stringify(body);
      if (this.previous.has(ref.code) && this.previous.get(ref.code) !== text) changed.push(ref);
      this.previous.set(ref.code, text);
    }
    const first = !this.firstSent;
    this.firstSent = true;
    return {
      eventId: randomUUID(),
      eventType: "VEHICLE_STATE",
      vehicle: this.ref,
      signals,
      // Smartcar only sends on a change; a quiet step still reports its (drifting) temperature.
      triggers: first ? "FIRST_DELIVERY" : changed.length > 0 ? changed : [SIGNALS.outsideTemperature],
    };
  }

  private vehicleError(state: "ERROR" | "RESOLVED", entry: (typeof TRANSIENT_ERRORS)[number]): SmartcarEvent {
    return {
      eventId: randomUUID(),
      eventType: "VEHICLE_ERROR",
      vehicle: this.ref,
      errors: [
        {
          type: entry.type,
          code: entry.code,
          state,
          description: state === "RESOLVED" ? "The error condition has cleared." : entry.description,
          suggestedUserMessage: state === "RESOLVED" ? undefined : entry.suggestedUserMessage,
          resolutionType: state === "RESOLVED" ? null : entry.resolutionType,
          signals: entry.signals.map((name) => SIGNALS[name]),
        },
      ],
    };
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export class SimulatedFleet {
  private readonly vehicles: SimulatedVehicle[];
  private turn = 0;

  constructor(random: SeededRandom, size: number) {
    this.vehicles = Array.from({ length: size }, (_, index) => new SimulatedVehicle(random, PROFILES[index % PROFILES.length], index));
  }

  get members(): readonly FleetVehicle[] {
    return this.vehicles.map((vehicle) => vehicle.ref);
  }

  /** The next vehicle's step (round robin), skipping vehicles that have nothing to send this step. */
  next(now: number): SmartcarEvent[] {
    for (let tries = 0; tries < this.vehicles.length * 8; tries++) {
      const vehicle = this.vehicles[this.turn];
      this.turn = (this.turn + 1) % this.vehicles.length;
      const events = vehicle.step(now);
      if (events.length > 0) return events;
    }
    return [];
  }
}
