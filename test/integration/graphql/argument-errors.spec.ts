import { gql, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";
import { connectLive } from "../../helpers/ws-client";

const VEHICLE = "argument-errors-vehicle";
const SOC = "tractionbattery-stateofcharge";

/** Operations with one bad argument each, the argument a client should be told about, and the message it gets. */
const CASES: Array<[string, string, string]> = [
  ["{ vehicles(first: 0) { totalCount } }", "first", "`first` must not be less than 1"],
  ["{ vehicles(first: 101) { totalCount } }", "first", "`first` must not be greater than 100"],
  ['{ vehicles(make: "") { totalCount } }', "make", "`make` must be longer than or equal to 1 characters"],
  ["{ vehicles(year: 1800) { totalCount } }", "year", "`year` must not be less than 1886"],
  ['{ issues(type: "") { totalCount } }', "type", "`type` must be longer than or equal to 1 characters"],
  [`{ vehicle(id: "${VEHICLE}") { signal(code: "${SOC}") { history(first: 0) { totalCount } } } }`, "first", "`first` must not be less than 1"],
  [`{ vehicle(id: "${VEHICLE}") { signal(code: "${SOC}") { series(from: "2026-11-01T00:00:00Z", interval: "P") { count } } } }`, "interval", "`interval` must be longer than or equal to 2 characters"],
  // Checked by hand (not class-validator): the same shape, a dotted path for a nested argument.
  [`{ vehicles(where: { signals: [{ code: "${SOC}", lt: 1, near: { latitude: 0, longitude: 0, radiusMeters: 1 } }] }) { totalCount } }`, "where.signals[0].near", "`where.signals[0].near` tests a LOCATION and cannot be combined with lt, lte, gt, gte or equals"],
  ['{ vehicles(after: "not-a-cursor") { totalCount } }', "after", "`after` is not a cursor from this list"],
];

describe("argument errors: BAD_USER_INPUT, one line naming the argument, nothing else", () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signToken({ role: "admin", sub: "ops" });
    const delivered = await postDelivery(t.url, vehicleState({ vehicleId: VEHICLE, userId: "argument-user", signals: [{ code: SOC, body: { value: 50, unit: "percent" } }] }));
    expect(delivered).toMatchObject({ status: 200, body: { status: "applied" } });
  });

  it.each(CASES)("over HTTP: %s", async (query, argument, message) => {
    const result = await gql(t.url, query, { token: admin });
    expect(result.status).toBe(200);
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors!;
    expect(error.message).toBe(message);
    expect(error.extensions).toEqual({ code: "BAD_USER_INPUT", argument });
  });

  it("over WebSocket: the same errors", async () => {
    const live = connectLive(t.wsUrl, { token: admin });
    for (const [query, argument, message] of CASES.slice(0, 3)) {
      const subscription = await live.client.iterate({ query }).next();
      expect(subscription.value?.errors).toEqual([expect.objectContaining({ message, extensions: { code: "BAD_USER_INPUT", argument } })]);
    }
  });
});
