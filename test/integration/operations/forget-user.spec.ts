import { randomUUID } from "node:crypto";
import { gql, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

/** forgetUser (README, "Retention and privacy"): an admin deletes every row of one Smartcar user; nobody else's. */
const ODOMETER = "odometer-traveleddistance";
const SOC = "tractionbattery-stateofcharge";
const HOUR = 3_600_000;

const FORGET = `mutation ($userId: ID!) {
  forgetUser(userId: $userId) {
    vehicles signals signalReadings signalErrors issues issueChanges webhookEvents webhookRejections
  }
}`;

/** Rows per table that belong to a user: delivered for them, or (raw bodies) naming them. */
async function rowsOf(t: TestApp, userId: string): Promise<Record<string, number>> {
  const named = Buffer.from(JSON.stringify(userId));
  const [row] = await t.app.dataSource.query(
    `SELECT (SELECT count(*) FROM vehicles WHERE user_id = $1)::int AS vehicles,
            (SELECT count(*) FROM signals WHERE user_id = $1)::int AS signals,
            (SELECT count(*) FROM signal_readings WHERE user_id = $1)::int AS "signalReadings",
            (SELECT count(*) FROM signal_errors WHERE user_id = $1)::int AS "signalErrors",
            (SELECT count(*) FROM vehicle_issues WHERE user_id = $1)::int AS issues,
            (SELECT count(*) FROM vehicle_issue_changes WHERE user_id = $1)::int AS "issueChanges",
            (SELECT count(*) FROM webhook_events WHERE position($2::bytea IN raw_body) > 0)::int AS "webhookEvents",
            (SELECT count(*) FROM webhook_rejections WHERE position($2::bytea IN raw_body) > 0)::int AS "webhookRejections"`,
    [userId, named],
  );
  return row;
}

describe("forgetUser", () => {
  let t: TestApp;
  const userA = `user-a-${randomUUID()}`;
  const userB = `user-b-${randomUUID()}`;
  const carA = `car-a-${randomUUID()}`;
  const carB = `car-b-${randomUUID()}`;
  /** A's first, then sold to B: B owns it now, A's old readings stay A's. */
  const sold = `car-sold-${randomUUID()}`;

  beforeAll(async () => {
    t = await startTestApp();
    const now = Date.now();
    const deliveries = [
      vehicleState({ vehicleId: carA, userId: userA, deliveredAt: now - 2 * HOUR, signals: [{ code: ODOMETER, body: { value: 1 } }, { code: SOC, body: { value: 50 } }] }),
      vehicleState({ vehicleId: carA, userId: userA, deliveredAt: now - HOUR, signals: [{ code: ODOMETER, body: { value: 2 } }, { code: SOC, error: { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE" } }] }),
      vehicleError({ vehicleId: carA, userId: userA, errors: [{ type: "CONNECTED_SERVICES_ACCOUNT", code: "VEHICLE_MISSING", state: "ERROR" }] }),
      vehicleState({ vehicleId: carB, userId: userB, signals: [{ code: ODOMETER, body: { value: 10 } }] }),
      vehicleError({ vehicleId: carB, userId: userB, errors: [{ type: "VEHICLE", code: "ASLEEP", state: "ERROR" }] }),
      vehicleState({ vehicleId: sold, userId: userA, deliveredAt: now - 3 * HOUR, signals: [{ code: ODOMETER, body: { value: 100 } }] }),
      vehicleState({ vehicleId: sold, userId: userB, deliveredAt: now - HOUR, signals: [{ code: ODOMETER, body: { value: 200 } }] }),
    ];
    for (const delivery of deliveries) expect((await postDelivery(t.url, delivery)).body).toMatchObject({ status: "applied" });
    // Refused bodies (no eventId) naming each user are kept raw in webhook_rejections.
    for (const userId of [userA, userB]) {
      expect((await postDelivery(t.url, { eventType: "VEHICLE_STATE", data: { user: { id: userId } } })).status).toBe(422);
    }
  });

  it("is refused to a user token, even for the user's own id, and deletes nothing", async () => {
    const before = await rowsOf(t, userA);
    for (const sub of [userA, userB]) {
      const result = await gql(t.url, FORGET, { token: await signToken({ sub }), variables: { userId: userA } });
      expect(result.status).toBe(403);
      expect(result.errors?.[0].extensions?.code).toBe("FORBIDDEN");
      expect(result.data?.forgetUser ?? null).toBeNull();
    }
    expect(await rowsOf(t, userA)).toEqual(before);
    expect(before).toMatchObject({ vehicles: 1, signalReadings: 4, issues: 1, webhookEvents: 4, webhookRejections: 1 });
  });

  it("deletes every row of user A over HTTP, in one call, and leaves user B's untouched", async () => {
    const bBefore = await rowsOf(t, userB);
    const admin = await signToken({ role: "admin" });
    const result = await gql<{ forgetUser: Record<string, number> }>(t.url, FORGET, { token: admin, variables: { userId: userA } });
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    // carA (3 readings, 2 values, 1 signal error, 1 issue with 1 change, 3 events) and A's reading and event of the sold car.
    expect(result.data?.forgetUser).toEqual({
      vehicles: 1,
      signals: 2,
      signalReadings: 4,
      signalErrors: 1,
      issues: 1,
      issueChanges: 1,
      webhookEvents: 4,
      webhookRejections: 1,
    });
    expect(await rowsOf(t, userA)).toEqual({
      vehicles: 0,
      signals: 0,
      signalReadings: 0,
      signalErrors: 0,
      issues: 0,
      issueChanges: 0,
      webhookEvents: 0,
      webhookRejections: 0,
    });
    expect(await rowsOf(t, userB)).toEqual(bBefore);
    // Nothing is left of the deleted car, whoever it was delivered for (the history has no foreign key to
    // cascade from the vehicle: forgetUser deletes it by vehicle; migration ReadingsWithoutForeignKey).
    const [left] = await t.app.dataSource.query(
      `SELECT (SELECT count(*) FROM signal_readings WHERE vehicle_id = $1)::int AS readings,
              (SELECT count(*) FROM signals WHERE vehicle_id = $1)::int AS signals`,
      [carA],
    );
    expect(left).toEqual({ readings: 0, signals: 0 });

    // What the API shows: A's car is gone; B still sees the sold car with B's own history.
    const query = `query ($a: ID!, $sold: ID!) {
      a: vehicle(id: $a) { id }
      sold: vehicle(id: $sold) { userId signal(code: "${ODOMETER}") { value history { totalCount } } }
    }`;
    const after = await gql<{ a: unknown; sold: { userId: string; signal: { value: number; history: { totalCount: number } } } }>(t.url, query, {
      token: admin,
      variables: { a: carA, sold },
    });
    expect(after.data).toEqual({ a: null, sold: { userId: userB, signal: { value: 200, history: { totalCount: 1 } } } });

    // Forgetting again finds nothing.
    const again = await gql<{ forgetUser: Record<string, number> }>(t.url, FORGET, { token: admin, variables: { userId: userA } });
    expect(Object.values(again.data?.forgetUser ?? { missing: 1 }).every((count) => count === 0)).toBe(true);
  });
});
