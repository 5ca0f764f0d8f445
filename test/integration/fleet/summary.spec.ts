import { randomUUID } from "node:crypto";
import { gqlData, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

const SUMMARY = `{ fleetSummary { vehicles openIssuesByType { type code count } failingSignals { code count } } }`;
const NOT_CAPABLE = { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE" };

interface Summary {
  fleetSummary: {
    vehicles: number;
    openIssuesByType: Array<{ type: string; code: string | null; count: number }>;
    failingSignals: Array<{ code: string; count: number }>;
  };
}

describe("fleetSummary", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    const post = async (payload: Record<string, unknown>) => expect(await postDelivery(t.url, payload)).toMatchObject({ status: 200 });
    const [a1, a2, b1] = [randomUUID(), randomUUID(), randomUUID()];
    // User a: two vehicles, one signal failing on both, another on one; two open issues of one kind, one resolved, one without code.
    await post(vehicleState({ vehicleId: a1, userId: "summary-a", signals: [{ code: "charge-voltage", error: NOT_CAPABLE }, { code: "closure-islocked", error: NOT_CAPABLE }] }));
    await post(vehicleState({ vehicleId: a2, userId: "summary-a", signals: [{ code: "charge-voltage", error: NOT_CAPABLE }, { code: "odometer-traveleddistance", body: { value: 3 } }] }));
    await post(vehicleError({ vehicleId: a1, userId: "summary-a", errors: [{ ...NOT_CAPABLE, state: "ERROR" }, { type: "PERMISSION", code: null, state: "ERROR" }] }));
    await post(vehicleError({ vehicleId: a2, userId: "summary-a", errors: [{ ...NOT_CAPABLE, state: "ERROR" }] }));
    await post(vehicleError({ vehicleId: a2, userId: "summary-a", errors: [{ type: "CONNECTED_SERVICES_ACCOUNT", code: "ACCOUNT_ISSUE", state: "ERROR" }] }));
    await post(vehicleError({ vehicleId: a2, userId: "summary-a", errors: [{ type: "CONNECTED_SERVICES_ACCOUNT", code: "ACCOUNT_ISSUE", state: "RESOLVED" }] }));
    // A vehicle of user a handed over to user c (a newer delivery for c): a's failing signal there is no longer on a's vehicles.
    const handed = randomUUID();
    const now = Date.now();
    await post(vehicleState({ vehicleId: handed, userId: "summary-a", deliveredAt: now - 60_000, signals: [{ code: "charge-amperage", error: NOT_CAPABLE }] }));
    await post(vehicleState({ vehicleId: handed, userId: "summary-c", deliveredAt: now, signals: [{ code: "odometer-traveleddistance", body: { value: 9 } }] }));
    // User b: one vehicle, one failing signal, one open issue.
    await post(vehicleState({ vehicleId: b1, userId: "summary-b", signals: [{ code: "closure-islocked", error: NOT_CAPABLE }] }));
    await post(vehicleError({ vehicleId: b1, userId: "summary-b", errors: [{ ...NOT_CAPABLE, state: "ERROR" }] }));
  });

  it("counts a user's own vehicles, open issues by type and code, and failing signals by code", async () => {
    const data = await gqlData<Summary>(t.url, SUMMARY, { token: await signToken({ sub: "summary-a" }) });
    expect(data.fleetSummary).toEqual({
      vehicles: 2,
      openIssuesByType: [
        { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", count: 2 },
        { type: "PERMISSION", code: null, count: 1 },
      ],
      failingSignals: [
        { code: "charge-voltage", count: 2 },
        { code: "closure-islocked", count: 1 },
      ],
    });
  });

  it("counts everything for an admin, and nothing for a user without vehicles", async () => {
    const all = await gqlData<Summary>(t.url, SUMMARY, { token: await signToken({ role: "admin" }) });
    expect(all.fleetSummary).toEqual({
      vehicles: 4,
      openIssuesByType: [
        { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", count: 3 },
        { type: "PERMISSION", code: null, count: 1 },
      ],
      failingSignals: [
        { code: "charge-voltage", count: 2 },
        { code: "closure-islocked", count: 2 },
        { code: "charge-amperage", count: 1 },
      ],
    });
    const next = await gqlData<Summary>(t.url, SUMMARY, { token: await signToken({ sub: "summary-c" }) });
    expect(next.fleetSummary).toEqual({ vehicles: 1, openIssuesByType: [], failingSignals: [] });
    const nobody = await gqlData<Summary>(t.url, SUMMARY, { token: await signToken({ sub: "summary-nobody" }) });
    expect(nobody.fleetSummary).toEqual({ vehicles: 0, openIssuesByType: [], failingSignals: [] });
  });
});
