import { gql, gqlData, signToken, unsignedToken } from "../../helpers/graphql";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

interface Page {
  totalCount: number;
  edges: Array<{ node: { id: string; vehicleId?: string } }>;
}

const LIST = `{
  vehicles { totalCount edges { node { id } } }
  issues { totalCount edges { node { id vehicleId } } }
}`;

describe("GraphQL access (contract, Access)", () => {
  let t: TestApp;
  let userA: string;
  let userB: string;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    const deliveries = [
      vehicleState({ vehicleId: "veh-a1", userId: "user-a", signals: [{ code: "odometer-traveleddistance", body: { value: 1 } }] }),
      vehicleState({ vehicleId: "veh-a2", userId: "user-a", signals: [{ code: "odometer-traveleddistance", body: { value: 2 } }] }),
      vehicleState({ vehicleId: "veh-b1", userId: "user-b", signals: [{ code: "odometer-traveleddistance", body: { value: 3 } }] }),
      vehicleError({ vehicleId: "veh-a1", userId: "user-a", errors: [{ type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", state: "ERROR" }] }),
      vehicleError({ vehicleId: "veh-b1", userId: "user-b", errors: [{ type: "PERMISSION", code: null, state: "ERROR" }] }),
    ];
    for (const delivery of deliveries) expect((await postDelivery(t.url, delivery)).status).toBe(200);
    userA = await signToken({ sub: "user-a" });
    userB = await signToken({ sub: "user-b" });
    admin = await signToken({ role: "admin" });
  });

  describe("tokens that get HTTP 401", () => {
    const cases: Array<[string, () => Promise<{ authorization?: string; token?: string | null }>]> = [
      ["no Authorization header", async () => ({ token: null })],
      ["a token signed with another key", async () => ({ token: await signToken({ sub: "user-a", secret: "another-secret-that-is-also-32-bytes-long" }) })],
      ["an unsigned alg:none token", async () => ({ token: unsignedToken({ sub: "user-a", role: "admin", exp: Math.floor(Date.now() / 1000) + 3600 }) })],
      ["an expired token", async () => ({ token: await signToken({ sub: "user-a", expiresIn: -60 }) })],
      ["a token without sub or role", async () => ({ token: await signToken({}) })],
      ["a malformed header", async () => ({ authorization: "Basic dXNlcjpwYXNz" })],
      ["a bearer that is not a JWT", async () => ({ authorization: "Bearer not.a.jwt" })],
    ];
    it.each(cases)("%s", async (_name, options) => {
      const result = await gql(t.url, LIST, await options());
      expect(result.status).toBe(401);
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    });
  });

  it("refuses a token once its exp has passed, though it was accepted (and kept as verified) before", async () => {
    // The verified-token cache keys on the token alone: it must still honour exp.
    const shortLived = await signToken({ sub: "user-a", expiresIn: 2 });
    expect((await gql(t.url, "{ vehicle(id: \"veh-a1\") { id } }", { token: shortLived })).status).toBe(200);
    expect((await gql(t.url, "{ vehicle(id: \"veh-a1\") { id } }", { token: shortLived })).status).toBe(200);
    // Wait until its exp (whole seconds) is just behind us.
    const { exp } = JSON.parse(Buffer.from(shortLived.split(".")[1], "base64url").toString()) as { exp: number };
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const late = await gql(t.url, "{ vehicle(id: \"veh-a1\") { id } }", { token: shortLived });
    expect(late.status).toBe(401);
    expect(late.errors?.[0]).toMatchObject({ message: "token expired", extensions: { code: "UNAUTHENTICATED" } });
  });

  describe("a user token", () => {
    it("sees only that user's vehicles and issues, counts included", async () => {
      const data = await gqlData<{ vehicles: Page; issues: Page }>(t.url, LIST, { token: userA });
      expect(data.vehicles.edges.map((edge) => edge.node.id)).toEqual(["veh-a1", "veh-a2"]);
      expect(data.vehicles.totalCount).toBe(2);
      expect(data.issues.edges.map((edge) => edge.node.vehicleId)).toEqual(["veh-a1"]);
      expect(data.issues.totalCount).toBe(1);
    });

    it("gets null for another user's vehicle, as for an unknown one", async () => {
      const data = await gqlData<Record<string, unknown>>(t.url, `{
        mine: vehicle(id: "veh-a1") { id signals { value } }
        theirs: vehicle(id: "veh-b1") { id signals { value } }
        unknown: vehicle(id: "veh-zz") { id }
      }`, { token: userA });
      expect(data).toEqual({ mine: { id: "veh-a1", signals: [{ value: 1 }] }, theirs: null, unknown: null });
    });

    it("cannot widen its scope with filters", async () => {
      const data = await gqlData<{ vehicles: Page; issues: Page }>(t.url, `{
        vehicles(userId: "user-b") { totalCount edges { node { id } } }
        issues(vehicleId: "veh-b1") { totalCount edges { node { id } } }
      }`, { token: userA });
      expect(data.vehicles).toEqual({ totalCount: 0, edges: [] });
      expect(data.issues).toEqual({ totalCount: 0, edges: [] });
    });

    it("does not reach another user's vehicle through an issue", async () => {
      const data = await gqlData<{ issues: { edges: Array<{ node: { vehicle: { id: string } | null } }> } }>(
        t.url, `{ issues { edges { node { vehicle { id } } } } }`, { token: userB },
      );
      expect(data.issues.edges.map((edge) => edge.node.vehicle?.id)).toEqual(["veh-b1"]);
    });
  });

  describe("an admin token", () => {
    it("sees everything, and can filter by user", async () => {
      const data = await gqlData<{ vehicles: Page; issues: Page }>(t.url, LIST, { token: admin });
      expect(data.vehicles.totalCount).toBe(3);
      expect(data.issues.totalCount).toBe(2);
      const b = await gqlData<{ vehicles: Page }>(t.url, `{ vehicles(userId: "user-b") { totalCount edges { node { id } } } }`, { token: admin });
      expect(b.vehicles).toEqual({ totalCount: 1, edges: [{ node: { id: "veh-b1" } }] });
      const one = await gqlData<{ vehicle: { id: string } }>(t.url, `{ vehicle(id: "veh-b1") { id } }`, { token: admin });
      expect(one.vehicle).toEqual({ id: "veh-b1" });
    });
  });

  describe("without JWT_SECRET (development)", () => {
    it("is open to requests without a token", async () => {
      const open = await startTestApp({ JWT_SECRET: undefined });
      const data = await gqlData<{ vehicles: Page }>(open.url, `{ vehicles { totalCount } }`, { token: null });
      expect(data.vehicles.totalCount).toBe(3);
    });
  });

  describe("a vehicle that changes owner", () => {
    it("keeps each issue with the user it was reported for: the new owner does not see the previous owner's", async () => {
      // Runs last: the other tests count this file's vehicles.
      const issueOf = `{ issues(vehicleId: "veh-sold") { totalCount edges { node { vehicleId type } } } }`;
      await postDelivery(t.url, vehicleState({ vehicleId: "veh-sold", userId: "user-a", signals: [{ code: "odometer-traveleddistance", body: { value: 1 } }] }));
      await postDelivery(t.url, vehicleError({ vehicleId: "veh-sold", userId: "user-a", errors: [{ type: "VEHICLE_STATE", code: "ASLEEP", state: "ERROR" }] }));
      expect((await gqlData<{ issues: Page }>(t.url, issueOf, { token: userA })).issues.totalCount).toBe(1);

      await postDelivery(t.url, vehicleState({ vehicleId: "veh-sold", userId: "user-b", signals: [{ code: "odometer-traveleddistance", body: { value: 2 } }] }));
      expect((await gqlData<{ issues: Page }>(t.url, issueOf, { token: userB })).issues.totalCount).toBe(0);
      expect((await gqlData<{ issues: Page }>(t.url, issueOf, { token: userA })).issues.edges).toEqual([
        { node: { vehicleId: "veh-sold", type: "VEHICLE_STATE" } },
      ]);
    });
  });
});
