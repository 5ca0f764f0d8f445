import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { gql, gqlData, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleState, type SignalSpec } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

const SOC = "tractionbattery-stateofcharge";
const CHARGING = "charge-ischarging";
const STATUS = "charge-detailedchargingstatus";
const PLACE = "location-preciselocation";
const T0 = Date.parse("2026-11-01T10:00:00Z");
/** The depot: Paris, Place de la Concorde. */
const DEPOT = { latitude: 48.8656, longitude: 2.3212 };

const VEHICLES = `query ($where: VehicleWhere, $orderBy: VehicleOrder, $first: Int, $after: String, $make: String) {
  vehicles(where: $where, orderBy: $orderBy, first: $first, after: $after, make: $make) {
    totalCount
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Page {
  vehicles: { totalCount: number; edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** A point `meters` east of `from` (along its parallel). */
function east(from: { latitude: number; longitude: number }, meters: number) {
  return { latitude: from.latitude, longitude: from.longitude + (meters / (6_371_008.8 * Math.cos((from.latitude * Math.PI) / 180))) * (180 / Math.PI) };
}

describe("fleet queries: vehicles(where: {signals})", () => {
  let t: TestApp;
  let admin: string;
  const names = new Map<string, string>();
  const fleet: Record<string, string> = {};

  /** A vehicle of `userId` with the given latest values; named for readable expectations. */
  async function vehicle(name: string, signals: SignalSpec[], spec: { userId?: string; make?: string; at?: number } = {}): Promise<string> {
    const vehicleId = `${name}-${randomUUID()}`;
    const at = spec.at ?? T0;
    const result = await postDelivery(
      t.url,
      vehicleState({ vehicleId, userId: spec.userId ?? "fleet-owner", make: spec.make, deliveredAt: at, signals: signals.map((s) => ({ oemUpdatedAt: at, retrievedAt: at, ...s })) }),
    );
    expect(result).toMatchObject({ status: 200, body: { status: "applied" } });
    names.set(vehicleId, name);
    fleet[name] = vehicleId;
    return vehicleId;
  }

  async function matching(variables: Record<string, unknown>, token = admin): Promise<string[]> {
    const data = await gqlData<Page>(t.url, VEHICLES, { token, variables: { first: 100, ...variables } });
    const found = data.vehicles.edges.map((edge) => names.get(edge.node.id) ?? "(another test's)");
    expect(data.vehicles.totalCount).toBe(found.length);
    return found;
  }

  const where = (...signals: Array<Record<string, unknown>>) => ({ where: { signals } });

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signToken({ role: "admin" });
    await vehicle("low", [
      { code: SOC, body: { unit: "percent", value: 12 } },
      { code: CHARGING, body: { value: false } },
      { code: STATUS, body: { value: "NOT_CHARGING" } },
      { code: PLACE, body: { ...east(DEPOT, 3_000), heading: 90 } },
    ], { make: "TESLA" });
    await vehicle("charging", [
      { code: SOC, body: { unit: "percent", value: 20 } },
      { code: CHARGING, body: { value: true } },
      { code: STATUS, body: { value: "CHARGING" } },
      { code: PLACE, body: east(DEPOT, 4_900) },
    ], { make: "BYD" });
    await vehicle("full", [
      { code: SOC, body: { percentage: 100 } },
      { code: CHARGING, body: { value: false } },
      { code: STATUS, body: { value: "FULLY_CHARGED" } },
      { code: PLACE, body: east(DEPOT, 5_100) },
    ], { make: "TESLA" });
    await vehicle("far", [
      { code: SOC, body: { unit: "percent", value: 55.5 } },
      { code: PLACE, body: { latitude: -33.8688, longitude: 151.2093 } },
    ]);
    await vehicle("silent", [{ code: "odometer-traveleddistance", body: { unit: "km", value: 10 } }]);
  });

  it("filters on numeric bounds of the latest value", async () => {
    expect(await matching(where({ code: SOC, lt: 20 }))).toEqual(["low"]);
    expect((await matching(where({ code: SOC, lte: 20 }))).sort()).toEqual(["charging", "low"]);
    expect((await matching(where({ code: SOC, gt: 20, lte: 100 }))).sort()).toEqual(["far", "full"]);
    expect(await matching(where({ code: SOC, gte: 100 }))).toEqual(["full"]);
    expect(await matching(where({ code: SOC, gt: 60, lt: 20 }))).toEqual([]);
  });

  it("filters on equals for numbers, booleans and text, never across kinds", async () => {
    expect(await matching(where({ code: SOC, equals: 55.5 }))).toEqual(["far"]);
    expect(await matching(where({ code: CHARGING, equals: true }))).toEqual(["charging"]);
    expect((await matching(where({ code: CHARGING, equals: false }))).sort()).toEqual(["full", "low"]);
    expect(await matching(where({ code: STATUS, equals: "CHARGING" }))).toEqual(["charging"]);
    expect(await matching(where({ code: STATUS, equals: "charging" }))).toEqual([]);
    expect(await matching(where({ code: CHARGING, equals: "true" }))).toEqual([]);
    expect(await matching(where({ code: SOC, equals: "20" }))).toEqual([]);
  });

  it("filters on great-circle distance with near", async () => {
    const around = (radiusMeters: number, center = DEPOT) => where({ code: PLACE, near: { ...center, radiusMeters } });
    expect((await matching(around(5_000))).sort()).toEqual(["charging", "low"]);
    expect((await matching(around(5_200))).sort()).toEqual(["charging", "full", "low"]);
    expect(await matching(around(2_000))).toEqual([]);
    // Sydney from the other side of the antimeridian, and a circle around the South Pole that reaches it.
    expect(await matching(around(100_000, { latitude: -33.8688, longitude: 151.2093 }))).toEqual(["far"]);
    expect(await matching(around(7_000_000, { latitude: -90, longitude: 0 }))).toEqual(["far"]);
    expect(await matching(around(2_000_000, { latitude: -35, longitude: -179.9 }))).toEqual([]);
    expect(await matching(around(3_000_000, { latitude: -35, longitude: 179.9 }))).toEqual(["far"]);
  });

  it("holds every condition at once, with a code alone meaning the vehicle has a value", async () => {
    const depot = { code: PLACE, near: { ...DEPOT, radiusMeters: 6_000 } };
    expect(await matching(where(depot, { code: SOC, lte: 50 }, { code: CHARGING, equals: false }))).toEqual(["low"]);
    expect((await matching(where({ code: PLACE }))).sort()).toEqual(["charging", "far", "full", "low"]);
    expect(await matching(where({ code: "odometer-traveleddistance" }))).toEqual(["silent"]);
    expect(await matching(where({ code: "never-sent" }))).toEqual([]);
  });

  it("combines with the other filters, orderings and pages", async () => {
    const depot = { code: PLACE, near: { ...DEPOT, radiusMeters: 6_000 } };
    expect(await matching({ ...where(depot), make: "tesla", orderBy: { field: "ID", direction: "DESC" } })).toEqual(
      ["full", "low"].sort((a, b) => (fleet[a] < fleet[b] ? 1 : -1)),
    );
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Page = await gqlData<Page>(t.url, VEHICLES, { token: admin, variables: { ...where(depot), first: 1, after } });
      expect(page.vehicles.totalCount).toBe(3);
      seen.push(...page.vehicles.edges.map((edge) => names.get(edge.node.id)!));
      after = page.vehicles.pageInfo.hasNextPage ? page.vehicles.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(["charging", "full", "low"].sort((a, b) => (fleet[a] < fleet[b] ? -1 : 1)));
  });

  it("orders by a signal's value, vehicles without it last, page by page in both directions", async () => {
    const inOrder = async (direction: string) => {
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: Page = await gqlData<Page>(t.url, VEHICLES, { token: admin, variables: { orderBy: { signal: SOC, direction }, first: 2, after } });
        seen.push(...page.vehicles.edges.map((edge) => names.get(edge.node.id) ?? "(another test's)"));
        after = page.vehicles.pageInfo.hasNextPage ? page.vehicles.pageInfo.endCursor : null;
      } while (after);
      return seen.filter((name) => ["low", "charging", "full", "far", "silent"].includes(name));
    };
    expect(await inOrder("ASC")).toEqual(["low", "charging", "far", "full", "silent"]);
    expect(await inOrder("DESC")).toEqual(["full", "far", "charging", "low", "silent"]);
    expect(await matching({ ...where({ code: SOC, gte: 20 }), orderBy: { signal: SOC } })).toEqual(["charging", "far", "full"]);
  });

  it("runs the README's examples as written", async () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "..", "..", "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Typed values, fleet queries and dashboard counts"));
    const document = /```graphql\n([\s\S]*?)```/.exec(section)![1];
    const operations = [...document.matchAll(/^query (\w+)/gm)].map((match) => match[1]);
    expect(operations).toEqual(["TypedValues", "LowAndNotCharging", "ChargingNearDepot", "Dashboard"]);
    const run = async (operationName: string) => {
      const response = await fetch(`${t.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: document, operationName }),
      });
      const body = (await response.json()) as { data?: Record<string, { edges?: Array<{ node: { id: string } }> }>; errors?: unknown };
      expect([operationName, response.status, body.errors]).toEqual([operationName, 200, undefined]);
      return body.data!;
    };
    const ids = (data: Record<string, { edges?: Array<{ node: { id: string } }> }>) => data.vehicles.edges!.map((edge) => names.get(edge.node.id));
    await run("TypedValues");
    expect(ids(await run("LowAndNotCharging"))).toContain("low");
    expect(ids(await run("ChargingNearDepot"))).toEqual(["charging"]);
    expect(await run("Dashboard")).toMatchObject({ fleetSummary: { vehicles: expect.any(Number) } });
  });

  describe("per-user scoping", () => {
    const AT = T0 + 3_600_000;

    it("counts and matches only the user's own vehicles", async () => {
      await vehicle("mine", [{ code: SOC, body: { unit: "percent", value: 5 } }], { userId: "scoped-a", at: AT });
      await vehicle("theirs", [{ code: SOC, body: { unit: "percent", value: 5 } }], { userId: "scoped-b", at: AT });
      const a = await signToken({ sub: "scoped-a" });
      expect(await matching(where({ code: SOC, lt: 10 }), a)).toEqual(["mine"]);
      expect(await matching({ orderBy: { signal: SOC } }, a)).toEqual(["mine"]);
      expect((await matching(where({ code: SOC, lt: 10 }))).sort()).toEqual(["mine", "theirs"]);
    });

    it("filters a handed-over vehicle on the new owner's own values, never the previous owner's", async () => {
      // The previous owner's value is newer by the car's clock, but the new owner's delivery was read later: it owns the car.
      const vehicleId = await vehicle("handed", [{ code: SOC, body: { unit: "percent", value: 10 }, oemUpdatedAt: AT + 5_000, retrievedAt: AT + 5_000 }], {
        userId: "previous",
        at: AT + 5_000,
      });
      const handedOver = vehicleState({
        vehicleId,
        userId: "next",
        deliveredAt: AT + 6_000,
        signals: [
          { code: SOC, body: { unit: "percent", value: 50 }, oemUpdatedAt: AT + 3_000, retrievedAt: AT + 6_000 },
          { code: CHARGING, body: { value: true }, oemUpdatedAt: AT + 6_000, retrievedAt: AT + 6_000 },
        ],
      });
      expect(await postDelivery(t.url, handedOver)).toMatchObject({ status: 200 });
      const next = await signToken({ sub: "next" });
      const previous = await signToken({ sub: "previous" });

      expect(await matching(where({ code: SOC, gte: 40 }), next)).toEqual(["handed"]);
      expect(await matching(where({ code: SOC, lt: 20 }), next)).toEqual([]);
      expect(await matching(where({ code: SOC, lt: 20 }, { code: CHARGING, equals: true }), next)).toEqual([]);
      expect(await matching({ orderBy: { signal: SOC, direction: "DESC" } }, next)).toEqual(["handed"]);
      expect(await matching(where({ code: SOC }), previous)).toEqual([]);
      // An admin reads the stored latest value, the previous owner's.
      expect(await matching(where({ code: SOC, equals: 10 }, { code: CHARGING }))).toEqual(["handed"]);
      const data = await gqlData<{ vehicle: { signal: { number: number } } }>(t.url, `{ vehicle(id: "${vehicleId}") { signal(code: "${SOC}") { number } } }`, {
        token: next,
      });
      expect(data.vehicle.signal.number).toBe(50);
    });
  });

  it("refuses more than 20 conditions in one operation before any SQL (each one is a subquery over the fleet)", async () => {
    const result = await gql(t.url, VEHICLES, { token: admin, variables: where(...Array.from({ length: 21 }, () => ({ code: SOC }))) });
    expect(result.status).toBe(400);
    expect(result.errors?.[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", conditions: 21, maxConditions: 20 });
    expect(result.errors?.[0].message).toMatch(/21 filter conditions/);
  });

  describe("refuses nonsense with BAD_USER_INPUT naming the argument", () => {
    it.each([
      ["near with a bound", where({ code: SOC }, { code: PLACE, lt: 3, near: { ...DEPOT, radiusMeters: 10 } }), "where.signals[1].near"],
      ["near with equals", where({ code: PLACE, equals: 3, near: { ...DEPOT, radiusMeters: 10 } }), "where.signals[0].near"],
      ["text equals with bounds", where({ code: STATUS, equals: "CHARGING", gt: 3 }), "where.signals[0].equals"],
      ["boolean equals with bounds", where({ code: CHARGING, equals: true, lte: 1 }), "where.signals[0].equals"],
      ["an object to equal", where({ code: SOC, equals: { value: 3 } }), "where.signals[0].equals"],
      ["a list to equal", where({ code: SOC, equals: [3] }), "where.signals[0].equals"],
      ["an empty code", where({ code: "" }), "where.signals[0].code"],
      ["a radius of 0", where({ code: PLACE, near: { ...DEPOT, radiusMeters: 0 } }), "where.signals[0].near.radiusMeters"],
      ["a radius beyond the Earth", where({ code: PLACE, near: { ...DEPOT, radiusMeters: 30_000_000 } }), "where.signals[0].near.radiusMeters"],
      ["a latitude of 91", where({ code: PLACE, near: { latitude: 91, longitude: 0, radiusMeters: 10 } }), "where.signals[0].near.latitude"],
      ["a longitude of -181", where({ code: PLACE, near: { latitude: 0, longitude: -181, radiusMeters: 10 } }), "where.signals[0].near.longitude"],
      ["orderBy with field and signal", { orderBy: { field: "ID", signal: SOC } }, "orderBy"],
      ["an empty orderBy signal", { orderBy: { signal: "" } }, "orderBy.signal"],
      ["a cursor of another ordering", { orderBy: { signal: SOC }, after: Buffer.from(JSON.stringify(["vehicles:ID:ASC", "x"])).toString("base64url") }, "after"],
      ["a forged signal cursor", { orderBy: { signal: SOC }, after: Buffer.from(JSON.stringify([`vehicles:signal:${SOC}:ASC`, "1; DROP", "x"])).toString("base64url") }, "after"],
    ])("%s", async (_name, variables, argument) => {
      const result = await gql(t.url, VEHICLES, { token: admin, variables });
      expect(result.status).toBe(200);
      expect(result.errors).toHaveLength(1);
      const [error] = result.errors!;
      expect(error.extensions).toMatchObject({ code: "BAD_USER_INPUT", argument });
      expect(error.message).toContain(`\`${argument}\``);
      expect(error.message).not.toContain("\n");
    });
  });
});
