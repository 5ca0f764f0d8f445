import { gql, gqlData, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

interface VehicleNode {
  id: string;
  make: string | null;
  model: string | null;
  year: number | null;
  userId: string | null;
}
interface Page<T> {
  totalCount: number;
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const T0 = Date.parse("2026-11-01T10:00:00.000Z");
const minutes = (n: number) => T0 + n * 60_000;

async function deliver(t: TestApp, payload: Record<string, unknown>): Promise<void> {
  const result = await postDelivery(t.url, payload);
  expect(result).toMatchObject({ status: 200, body: { status: "applied" } });
}

describe("GraphQL queries", () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signToken({ role: "admin", sub: "ops" });
    await deliver(t, vehicleState({
      vehicleId: "veh-tesla-3", userId: "user-a", make: "TESLA", model: "Model 3", year: 2020,
      signals: [
        { code: "tractionbattery-stateofcharge", name: "StateOfCharge", group: "TractionBattery", body: { value: 80, unit: "percent" }, oemUpdatedAt: minutes(0) },
        { code: "odometer-traveleddistance", body: { value: 12000, unit: "km" }, oemUpdatedAt: minutes(0) },
        { code: "location-preciselocation", error: { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE" } },
        { code: "closure-islocked", error: { type: "PERMISSION", code: null } },
      ],
    }));
    await deliver(t, vehicleState({
      vehicleId: "veh-bmw-i4", userId: "user-a", make: "BMW", model: "i4", year: 2022,
      signals: [{ code: "tractionbattery-stateofcharge", body: { value: 55 }, oemUpdatedAt: minutes(1) }],
    }));
    await deliver(t, vehicleState({
      vehicleId: "veh-tesla-y", userId: "user-b", make: "TESLA", model: "Model Y", year: 2021,
      signals: [{ code: "tractionbattery-stateofcharge", body: { value: 33 }, oemUpdatedAt: minutes(2) }],
    }));
    await deliver(t, vehicleError({
      vehicleId: "veh-tesla-3", userId: "user-a", deliveredAt: minutes(10),
      errors: [{ type: "CONNECTED_SERVICES_ACCOUNT", code: "SUBSCRIPTION", state: "ERROR", signals: ["location-preciselocation"] }],
    }));
    await deliver(t, vehicleError({
      vehicleId: "veh-tesla-3", userId: "user-a", deliveredAt: minutes(20),
      errors: [{ type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", state: "ERROR" }],
    }));
    await deliver(t, vehicleError({
      vehicleId: "veh-tesla-3", userId: "user-a", deliveredAt: minutes(30),
      errors: [{ type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", state: "RESOLVED" }],
    }));
    await deliver(t, vehicleError({
      vehicleId: "veh-tesla-y", userId: "user-b", make: "TESLA", model: "Model Y", year: 2021, deliveredAt: minutes(40),
      errors: [{ type: "PERMISSION", code: null, state: "ERROR" }],
    }));
  });

  describe("vehicle(id)", () => {
    it("returns the vehicle with its latest signals, failing signals and issues", async () => {
      const data = await gqlData<{ vehicle: Record<string, unknown> }>(t.url, `{
        vehicle(id: "veh-tesla-3") {
          id make model year userId firstSeenAt lastSeenAt
          signals { vehicleId code name group body value unit oemUpdatedAt retrievedAt receivedAt observedAt ageSeconds }
          signalErrors { code errorType errorCode reportedErrorCode firstSeenAt lastSeenAt }
          issues { type code state openedAt resolvedAt }
        }
      }`, { token: admin });
      const vehicle = data.vehicle;
      expect(vehicle).toMatchObject({ id: "veh-tesla-3", make: "TESLA", model: "Model 3", year: 2020, userId: "user-a" });
      expect(vehicle.signals).toEqual([
        expect.objectContaining({ code: "odometer-traveleddistance", value: 12000, unit: "km" }),
        expect.objectContaining({
          vehicleId: "veh-tesla-3",
          code: "tractionbattery-stateofcharge",
          name: "StateOfCharge",
          group: "TractionBattery",
          body: { value: 80, unit: "percent" },
          value: 80,
          oemUpdatedAt: new Date(minutes(0)).toISOString(),
          observedAt: new Date(minutes(0)).toISOString(),
        }),
      ]);
      const soc = (vehicle.signals as Array<{ ageSeconds: number; receivedAt: string }>)[1];
      // Observed at T0, a date in the past: its age is the time since then, measured at query time.
      expect(soc.ageSeconds).toBeGreaterThan((Date.now() - minutes(0)) / 1000 - 60);
      expect(soc.ageSeconds).toBeLessThanOrEqual((Date.now() - minutes(0)) / 1000 + 1);
      expect(Date.parse(soc.receivedAt)).toBeGreaterThan(Date.now() - 120_000);
      expect(vehicle.signalErrors).toEqual([
        expect.objectContaining({ code: "closure-islocked", errorType: "PERMISSION", errorCode: "PERMISSION", reportedErrorCode: null }),
        expect.objectContaining({ code: "location-preciselocation", errorType: "COMPATIBILITY", errorCode: "VEHICLE_NOT_CAPABLE", reportedErrorCode: "VEHICLE_NOT_CAPABLE" }),
      ]);
      expect(vehicle.issues).toEqual([
        { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", state: "RESOLVED", openedAt: new Date(minutes(20)).toISOString(), resolvedAt: new Date(minutes(30)).toISOString() },
        { type: "CONNECTED_SERVICES_ACCOUNT", code: "SUBSCRIPTION", state: "OPEN", openedAt: new Date(minutes(10)).toISOString(), resolvedAt: null },
      ]);
    });

    it("filters signals by code, answers one signal, and issues by state", async () => {
      const data = await gqlData<{ vehicle: Record<string, unknown> }>(t.url, `{
        vehicle(id: "veh-tesla-3") {
          signals(codes: ["odometer-traveleddistance", "no-such-signal"]) { code }
          signal(code: "tractionbattery-stateofcharge") { value }
          missing: signal(code: "no-such-signal") { value }
          open: issues(state: OPEN) { code }
          resolved: issues(state: RESOLVED) { code }
        }
      }`, { token: admin });
      expect(data.vehicle).toEqual({
        signals: [{ code: "odometer-traveleddistance" }],
        signal: { value: 80 },
        missing: null,
        open: [{ code: "SUBSCRIPTION" }],
        resolved: [{ code: "VEHICLE_NOT_CAPABLE" }],
      });
    });

    it("is null for an unknown id", async () => {
      const data = await gqlData<{ vehicle: unknown }>(t.url, `{ vehicle(id: "nope") { id } }`, { token: admin });
      expect(data.vehicle).toBeNull();
    });
  });

  describe("vehicles", () => {
    const ids = async (args: string) => {
      const data = await gqlData<{ vehicles: Page<VehicleNode> }>(t.url, `{ vehicles${args ? `(${args})` : ""} { totalCount edges { node { id } } } }`, { token: admin });
      return { ids: data.vehicles.edges.map((edge) => edge.node.id), totalCount: data.vehicles.totalCount };
    };

    it("lists every vehicle by id by default, with totalCount", async () => {
      expect(await ids("")).toEqual({ ids: ["veh-bmw-i4", "veh-tesla-3", "veh-tesla-y"], totalCount: 3 });
    });

    it("filters by make (any case), model, year and user, and counts only the matches", async () => {
      expect(await ids(`make: "tesla"`)).toEqual({ ids: ["veh-tesla-3", "veh-tesla-y"], totalCount: 2 });
      expect(await ids(`make: "TESLA", model: "model y"`)).toEqual({ ids: ["veh-tesla-y"], totalCount: 1 });
      expect(await ids(`year: 2022`)).toEqual({ ids: ["veh-bmw-i4"], totalCount: 1 });
      expect(await ids(`userId: "user-a"`)).toEqual({ ids: ["veh-bmw-i4", "veh-tesla-3"], totalCount: 2 });
      expect(await ids(`make: "FORD"`)).toEqual({ ids: [], totalCount: 0 });
    });

    it("filters and orders by last seen", async () => {
      // veh-tesla-y was seen last (its error delivery came after everything else).
      const newestFirst = await ids(`orderBy: { field: LAST_SEEN_AT, direction: DESC }`);
      expect(newestFirst.ids[0]).toBe("veh-tesla-y");
      const data = await gqlData<{ vehicle: { lastSeenAt: string } }>(t.url, `{ vehicle(id: "veh-tesla-y") { lastSeenAt } }`, { token: admin });
      expect(await ids(`lastSeenAfter: "${data.vehicle.lastSeenAt}"`)).toEqual({ ids: ["veh-tesla-y"], totalCount: 1 });
      expect((await ids(`lastSeenBefore: "${data.vehicle.lastSeenAt}"`)).ids).not.toContain("veh-tesla-y");
      expect(await ids(`lastSeenAfter: "2999-01-01T00:00:00Z"`)).toEqual({ ids: [], totalCount: 0 });
    });

    it("orders by id descending", async () => {
      expect((await ids(`orderBy: { field: ID, direction: DESC }`)).ids).toEqual(["veh-tesla-y", "veh-tesla-3", "veh-bmw-i4"]);
    });
  });

  describe("issues", () => {
    interface IssueNode {
      vehicleId: string;
      type: string;
      code: string | null;
      state: string;
    }
    const issues = async (args: string) => {
      const data = await gqlData<{ issues: Page<IssueNode> }>(t.url, `{ issues${args ? `(${args})` : ""} { totalCount edges { node { vehicleId type code state } } } }`, { token: admin });
      return { nodes: data.issues.edges.map((edge) => edge.node), totalCount: data.issues.totalCount };
    };

    it("lists all issues, most recently opened first", async () => {
      const all = await issues("");
      expect(all.totalCount).toBe(3);
      expect(all.nodes.map((issue) => issue.code)).toEqual([null, "VEHICLE_NOT_CAPABLE", "SUBSCRIPTION"]);
    });

    it("filters by state, vehicle, type, code and time", async () => {
      expect((await issues("state: OPEN")).nodes.map((i) => i.code)).toEqual([null, "SUBSCRIPTION"]);
      expect((await issues("state: RESOLVED")).totalCount).toBe(1);
      expect((await issues(`vehicleId: "veh-tesla-y"`)).nodes).toEqual([{ vehicleId: "veh-tesla-y", type: "PERMISSION", code: null, state: "OPEN" }]);
      expect((await issues(`type: "COMPATIBILITY"`)).nodes.map((i) => i.code)).toEqual(["VEHICLE_NOT_CAPABLE"]);
      expect((await issues(`code: "SUBSCRIPTION"`)).nodes.map((i) => i.type)).toEqual(["CONNECTED_SERVICES_ACCOUNT"]);
      const after15 = await issues(`openedAfter: "${new Date(minutes(15)).toISOString()}"`);
      expect(after15.nodes.map((i) => i.code)).toEqual([null, "VEHICLE_NOT_CAPABLE"]);
      const before15 = await issues(`openedBefore: "${new Date(minutes(15)).toISOString()}"`);
      expect(before15.nodes.map((i) => i.code)).toEqual(["SUBSCRIPTION"]);
      expect((await issues(`orderBy: { field: OPENED_AT, direction: ASC }`)).nodes.map((i) => i.code)).toEqual(["SUBSCRIPTION", "VEHICLE_NOT_CAPABLE", null]);
      expect((await issues(`vehicleId: "veh-tesla-3", state: OPEN`)).totalCount).toBe(1);
    });

    it("reaches the vehicle from an issue", async () => {
      const data = await gqlData<{ issues: Page<{ vehicle: { make: string } }> }>(t.url, `{ issues(vehicleId: "veh-tesla-y") { edges { node { vehicle { make model } } } } }`, { token: admin });
      expect(data.issues.edges[0].node.vehicle).toEqual({ make: "TESLA", model: "Model Y" });
    });
  });

  describe("issue durations and reopen counts", () => {
    it("counts how often an issue came back and how long each episode lasted", async () => {
      const report = (state: "ERROR" | "RESOLVED", at: number) =>
        deliver(t, vehicleError({ vehicleId: "veh-bmw-i4", userId: "user-a", make: "BMW", model: "i4", year: 2022, deliveredAt: at, errors: [{ type: "VEHICLE", code: "ASLEEP", state }] }));
      await report("ERROR", minutes(100));
      await report("ERROR", minutes(105)); // a repeat refreshes, it is not a new episode
      await report("RESOLVED", minutes(110));
      await report("ERROR", minutes(200));
      await report("RESOLVED", minutes(230));
      await report("ERROR", minutes(300));

      const before = Date.now();
      const data = await gqlData<{ issues: Page<Record<string, unknown>> }>(t.url, `{
        issues(code: "ASLEEP") { edges { node { state reopenCount occurrences openedAt openSeconds totalOpenSeconds episodes { openedAt resolvedAt durationSeconds } } } }
      }`, { token: admin });
      const after = Date.now();
      const issue = data.issues.edges[0].node;
      expect(issue).toMatchObject({ state: "OPEN", reopenCount: 2, occurrences: 4, openedAt: new Date(minutes(300)).toISOString() });
      expect((issue.episodes as unknown[]).slice(0, 2)).toEqual([
        { openedAt: new Date(minutes(100)).toISOString(), resolvedAt: new Date(minutes(110)).toISOString(), durationSeconds: 600 },
        { openedAt: new Date(minutes(200)).toISOString(), resolvedAt: new Date(minutes(230)).toISOString(), durationSeconds: 1800 },
      ]);
      const current = (issue.episodes as Array<{ openedAt: string; resolvedAt: string | null; durationSeconds: number }>)[2];
      expect(current).toMatchObject({ openedAt: new Date(minutes(300)).toISOString(), resolvedAt: null });
      // Still open: it lasts until the moment of the query.
      const openFor = (now: number) => (now - minutes(300)) / 1000;
      expect(issue.openSeconds).toBeGreaterThanOrEqual(openFor(before) - 1);
      expect(issue.openSeconds).toBeLessThanOrEqual(openFor(after) + 1);
      expect(current.durationSeconds).toBe(issue.openSeconds);
      expect(issue.totalOpenSeconds).toBeCloseTo(600 + 1800 + (issue.openSeconds as number), 3);
    });
  });

  describe("argument validation", () => {
    it("refuses a malformed cursor and a cursor from another ordering", async () => {
      const bad = await gql(t.url, `{ vehicles(after: "not-a-cursor") { totalCount } }`, { token: admin });
      expect(bad.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      const page = await gqlData<{ vehicles: Page<VehicleNode> }>(t.url, `{ vehicles(first: 1) { pageInfo { endCursor } } }`, { token: admin });
      const other = await gql(t.url, `query($after: String) { vehicles(after: $after, orderBy: { field: LAST_SEEN_AT }) { totalCount } }`, {
        token: admin,
        variables: { after: page.vehicles.pageInfo.endCursor },
      });
      expect(other.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      const issuesWithVehicleCursor = await gql(t.url, `query($after: String) { issues(after: $after) { totalCount } }`, {
        token: admin,
        variables: { after: page.vehicles.pageInfo.endCursor },
      });
      expect(issuesWithVehicleCursor.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    });

    it("refuses a well-formed cursor whose key is not a time or id (BAD_USER_INPUT, not an internal error)", async () => {
      const forged = (...parts: string[]) => Buffer.from(JSON.stringify(parts)).toString("base64url");
      const cases: Array<[string, string]> = [
        [`query($after: String) { vehicles(after: $after, orderBy: { field: LAST_SEEN_AT }) { totalCount } }`, forged("vehicles:LAST_SEEN_AT:ASC", "yesterday", "v")],
        [`query($after: String) { vehicles(after: $after, orderBy: { field: LAST_SEEN_AT }) { totalCount } }`, forged("vehicles:LAST_SEEN_AT:ASC", "2026-02-30 00:00:00+00", "v")],
        [`query($after: String) { issues(after: $after) { totalCount } }`, forged("issues:OPENED_AT:DESC", "2026-01-01 00:00:00+00", "not-a-uuid")],
        [`query($after: String) { vehicles { edges { node { signals(codes: ["tractionbattery-stateofcharge"]) { history(after: $after) { totalCount } } } } } }`, forged("history:DESC", "2026-01-01 00:00:00.5+00", "12x")],
      ];
      for (const [query, after] of cases) {
        const result = await gql(t.url, query, { token: admin, variables: { after } });
        expect(result.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      }
    });
  });

  it("answers every selection of a vehicle's signals alike, however the query spells it (aliases, fragments, directives, pages)", async () => {
    // Signals may come with their vehicle, fetching only the columns the selection reads: each spelling must still get every field.
    const full = { code: "tractionbattery-stateofcharge", value: 80, unit: "percent", name: "StateOfCharge", group: "TractionBattery", kind: "NUMBER", number: 80, body: { value: 80, unit: "percent" }, observedAt: new Date(minutes(0)).toISOString() };
    type Answer = Record<string, unknown> & { vehicles: { edges: Array<{ node: unknown }> } };
    const data = await gqlData<Answer>(t.url, `query($yes: Boolean!) {
      small: vehicle(id: "veh-tesla-3") { signals(codes: ["tractionbattery-stateofcharge"]) { code } }
      spread: vehicle(id: "veh-tesla-3") { ...Everything }
      twice: vehicle(id: "veh-tesla-3") {
        a: signals(codes: ["tractionbattery-stateofcharge"]) { code }
        b: signals(codes: ["tractionbattery-stateofcharge"]) @include(if: $yes) { ... on Signal { value unit name group } code kind number body observedAt }
        one: signal(code: "tractionbattery-stateofcharge") { code observedAt ageSeconds }
      }
      vehicles(first: 1) { edges { node { id ...Everything signal(code: "tractionbattery-stateofcharge") { receivedAt } } } }
    }
    fragment Everything on Vehicle { signals(codes: ["tractionbattery-stateofcharge"]) { code value unit name group kind number body observedAt } }`,
    { token: admin, variables: { yes: true } });
    expect(data.small).toEqual({ signals: [{ code: full.code }] });
    expect(data.spread).toEqual({ signals: [full] });
    expect(data.twice).toEqual({ a: [{ code: full.code }], b: [full], one: { code: full.code, observedAt: full.observedAt, ageSeconds: expect.any(Number) } });
    expect(data.vehicles.edges[0].node).toEqual({ id: "veh-bmw-i4", signals: [expect.objectContaining({ code: full.code, value: 55, kind: "NUMBER" })], signal: { receivedAt: expect.any(String) } });
  });
});

describe("a signal that comes with `body: null`", () => {
  it("does not hide the vehicle's other signals (Signal.body is JSON!)", async () => {
    const t = await startTestApp();
    const admin = await signToken({ role: "admin" });
    const delivery = vehicleState({
      vehicleId: "veh-null-body",
      userId: "user-null-body",
      signals: [{ code: "tractionbattery-stateofcharge", body: { value: 42 } }, { code: "charge-chargerate", body: { value: 1 } }],
    });
    (delivery.data as { signals: Array<{ body?: unknown }> }).signals[1].body = null;
    await deliver(t, delivery);
    const result = await gql<{ vehicle: { signals: Array<{ code: string; value: number }>; signalErrors: Array<{ code: string }> } | null }>(
      t.url,
      `{ vehicle(id: "veh-null-body") { signals { code value body } signalErrors { code } } }`,
      { token: admin },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.vehicle?.signals).toEqual([{ code: "tractionbattery-stateofcharge", value: 42, body: { value: 42 } }]);
    expect(result.data?.vehicle?.signalErrors).toEqual([{ code: "charge-chargerate" }]);
  });
});
