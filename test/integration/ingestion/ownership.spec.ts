import { applyDeliveries } from "../../../src/webhooks/apply-deliveries";
import { normalizeDelivery } from "../../../src/webhooks/normalize";
import type { DataDelivery } from "../../../src/webhooks/normalized-delivery";
import { gqlData, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleError, vehicleState, type SignalSpec } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";
import { connectLive } from "../../helpers/ws-client";

/**
 * Contract, Access: a vehicle belongs to the user of its newest delivery (by when its data was read);
 * a late or retried older delivery never changes that; every value, reading, signal error and issue
 * change keeps the user it was delivered for, and a user sees only their own.
 */
const ODOMETER = "odometer-traveleddistance";
const LOCATION = "location-preciselocation";
const SOC = "tractionbattery-stateofcharge";
const VOLTAGE = "charge-voltage";
const HOUR = 3_600_000;

/** Data read ten days ago: A's at t1, A's late retry at t0 (after t1, before t2), B's at t2. */
const base = Math.floor((Date.now() - 10 * 24 * HOUR) / HOUR) * HOUR;
const t1 = base;
const t0 = base + HOUR;
const t2 = base + 2 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const at = (readAt: number, specs: SignalSpec[]): SignalSpec[] =>
  specs.map((spec) => (spec.error ? spec : { retrievedAt: readAt, oemUpdatedAt: readAt, ...spec }));

interface VehicleView {
  vehicle: {
    userId: string | null;
    signals: Array<{ code: string; value: number | null }>;
    asOfT1: Array<{ code: string }>;
    odometer: {
      history: { totalCount: number; edges: Array<{ node: { value: number } }> };
      series: Array<{ count: number; min: number | null; max: number | null }>;
    } | null;
    location: { body: { latitude: number }; history: { edges: Array<{ node: { body: { latitude: number } } }> } } | null;
    signalErrors: Array<{ code: string }>;
    issues: Array<{ type: string; code: string | null }>;
  } | null;
}

const VEHICLE_VIEW = `query ($id: ID!, $t1: DateTime!, $from: DateTime!, $to: DateTime!) {
  vehicle(id: $id) {
    userId
    signals { code value }
    asOfT1: signals(asOf: $t1) { code }
    odometer: signal(code: "${ODOMETER}") {
      history(first: 100) { totalCount edges { node { value } } }
      series(from: $from, to: $to, interval: "PT1H") { count min max }
    }
    location: signal(code: "${LOCATION}") { body history { edges { node { body } } } }
    signalErrors { code }
    issues { type code }
  }
}`;

describe("migration DeliveredForUser", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });

  it("gives existing rows their vehicle's current owner, and keeps issues matched", async () => {
    const db = t.app.dataSource;
    const applied = async () => (await db.query<Array<{ name: string }>>("SELECT name FROM migrations")).map((row) => row.name);
    while ((await applied()).includes("DeliveredForUser1795972644562")) await db.undoLastMigration({ transaction: "each" });

    // Rows as the previous schema held them: no user on values, readings and errors; issues keyed without one.
    await db.query(`INSERT INTO vehicles (id, user_id, first_seen_at, last_seen_at) VALUES ('legacy-1', 'legacy-owner', $1, $1)`, [iso(t1)]);
    await db.query(
      `INSERT INTO signal_readings (vehicle_id, code, body, value, retrieved_at, received_at, observed_at, event_id)
       VALUES ('legacy-1', $1, '{"value": 1}', 1, $2, $2, $2, 'legacy-e1'), ('legacy-1', $1, '{"value": 2}', 2, $3, $3, $3, 'legacy-e2')`,
      [ODOMETER, iso(t1), iso(t2)],
    );
    await db.query(
      `INSERT INTO signals (vehicle_id, code, body, value, retrieved_at, received_at, observed_at, event_id, last_read_at)
       VALUES ('legacy-1', $1, '{"value": 2}', 2, $2, $2, $2, 'legacy-e2', $2)`,
      [ODOMETER, iso(t2)],
    );
    await db.query(
      `INSERT INTO signal_errors (vehicle_id, code, error_type, error_code, first_seen_at, last_seen_at, observed_at, event_id)
       VALUES ('legacy-1', $1, 'COMPATIBILITY', 'VEHICLE_NOT_CAPABLE', $2, $2, $2, 'legacy-e2')`,
      [VOLTAGE, iso(t2 + 1)],
    );
    const issues: Array<{ id: string }> = await db.query(
      `INSERT INTO vehicle_issues (issue_key, vehicle_id, user_id, type, code, state, opened_at, last_seen_at, observed_at, updated_at, event_id)
       VALUES ('legacy-1|VEHICLE_STATE|ASLEEP', 'legacy-1', NULL, 'VEHICLE_STATE', 'ASLEEP', 'OPEN', $1, $1, $1, $1, 'legacy-e3'),
              ('legacy-1|COMPATIBILITY|', 'legacy-1', 'legacy-previous', 'COMPATIBILITY', NULL, 'OPEN', $1, $1, $1, $1, 'legacy-e4')
       RETURNING id`,
      [iso(t1)],
    );
    await db.query(
      `INSERT INTO vehicle_issue_events (issue_id, vehicle_id, user_id, state, change, event_id, occurred_at)
       VALUES ($1, 'legacy-1', NULL, 'OPEN', 'OPENED', 'legacy-e3', $3), ($2, 'legacy-1', 'legacy-previous', 'OPEN', 'OPENED', 'legacy-e4', $3)`,
      [issues[0].id, issues[1].id, iso(t1)],
    );

    await db.runMigrations({ transaction: "each" });

    const users = async (table: string) => (await db.query<Array<{ user_id: string | null }>>(`SELECT user_id FROM ${table} WHERE vehicle_id = 'legacy-1' ORDER BY user_id`)).map((row) => row.user_id);
    expect(await users("signals")).toEqual(["legacy-owner"]);
    expect(await users("signal_readings")).toEqual(["legacy-owner", "legacy-owner"]);
    expect(await users("signal_errors")).toEqual(["legacy-owner"]);
    expect(await users("vehicle_issues")).toEqual(["legacy-owner", "legacy-previous"]);
    expect(await users("vehicle_issue_changes")).toEqual(["legacy-owner", "legacy-previous"]);
    expect(await db.query(`SELECT owner_read_at FROM vehicles WHERE id = 'legacy-1'`)).toEqual([{ owner_read_at: new Date(t2) }]);

    // The owner sees it all; a delivery read before the newest stored reading does not take the vehicle over.
    const owner = await signToken({ sub: "legacy-owner" });
    const query = `{ vehicle(id: "legacy-1") { userId signals { value } signalErrors { code } issues { code state }
      signal(code: "${ODOMETER}") { history { totalCount } } } }`;
    expect((await gqlData(t.url, query, { token: owner })).vehicle).toEqual({
      userId: "legacy-owner",
      signals: [{ value: 2 }],
      signalErrors: [{ code: VOLTAGE }],
      issues: [{ code: "ASLEEP", state: "OPEN" }],
      signal: { history: { totalCount: 2 } },
    });
    expect((await postDelivery(t.url, vehicleState({ vehicleId: "legacy-1", userId: "legacy-previous", deliveredAt: Date.now(), signals: at(t2 - 1, [{ code: SOC }]) }))).status).toBe(200);
    // The owner's resolution finds the issue under its new key.
    const resolved = vehicleError({ vehicleId: "legacy-1", userId: "legacy-owner", deliveredAt: t2, errors: [{ type: "VEHICLE_STATE", code: "ASLEEP", state: "RESOLVED" }] });
    expect((await postDelivery(t.url, resolved)).status).toBe(200);
    expect((await gqlData(t.url, query, { token: owner })).vehicle).toMatchObject({ userId: "legacy-owner", issues: [{ code: "ASLEEP", state: "RESOLVED" }] });
  });
});

describe("vehicle ownership (contract, Access)", () => {
  let t: TestApp;
  let userA: string;
  let userB: string;
  let admin: string;
  const post = async (payload: Record<string, unknown>) => expect((await postDelivery(t.url, payload)).body).toMatchObject({ status: "applied" });
  const view = async (id: string, token: string) =>
    (await gqlData<VehicleView>(t.url, VEHICLE_VIEW, { token, variables: { id, t1: iso(t1 + 1), from: iso(t1 - HOUR), to: iso(t2 + HOUR) } })).vehicle;

  /** A's deliveries at t1 (values, a failing signal, an issue), then B's at t2: the hand-over. */
  async function handOver(vehicleId: string): Promise<void> {
    await post(
      vehicleState({
        vehicleId,
        userId: "user-a",
        deliveredAt: t1,
        signals: at(t1, [
          { code: ODOMETER, body: { value: 100, unit: "km" } },
          { code: LOCATION, body: { latitude: 48.1, longitude: 11.5 } },
          { code: VOLTAGE, error: { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE" } },
        ]),
      }),
    );
    await post(vehicleError({ vehicleId, userId: "user-a", deliveredAt: t1, errors: [{ type: "VEHICLE_STATE", code: "ASLEEP", state: "ERROR" }] }));
    await post(
      vehicleState({
        vehicleId,
        userId: "user-b",
        deliveredAt: t2,
        signals: at(t2, [
          { code: ODOMETER, body: { value: 200, unit: "km" } },
          { code: LOCATION, body: { latitude: 52.5, longitude: 13.4 } },
        ]),
      }),
    );
    await post(vehicleError({ vehicleId, userId: "user-b", deliveredAt: t2, errors: [{ type: "CONNECTED_SERVICES_ACCOUNT", code: "SUBSCRIPTION", state: "ERROR" }] }));
  }

  /** A's delivery read at t0 < t2, arriving (or retried by Smartcar, with a new deliveredAt) after B's. */
  const lateForA = (vehicleId: string, soc = 55) =>
    vehicleState({
      vehicleId,
      userId: "user-a",
      deliveredAt: Date.now(),
      signals: at(t0, [
        { code: ODOMETER, body: { value: 150, unit: "km" } },
        { code: SOC, body: { value: soc, unit: "percent" } },
      ]),
    });

  beforeAll(async () => {
    t = await startTestApp();
    [userA, userB, admin] = await Promise.all([signToken({ sub: "user-a" }), signToken({ sub: "user-b" }), signToken({ role: "admin" })]);
  });

  it("stays with the newest delivery's user when an older delivery for the previous owner arrives late", async () => {
    await handOver("veh-late");
    await post(lateForA("veh-late"));

    expect(await view("veh-late", userA)).toBeNull();
    expect((await view("veh-late", userB))?.userId).toBe("user-b");
    expect((await view("veh-late", admin))?.userId).toBe("user-b");
    const list = `{ vehicles { totalCount edges { node { id } } } }`;
    expect((await gqlData<{ vehicles: { totalCount: number } }>(t.url, list, { token: userA })).vehicles.totalCount).toBe(0);
    expect((await gqlData<{ vehicles: { edges: unknown[] } }>(t.url, list, { token: userB })).vehicles.edges).toEqual([{ node: { id: "veh-late" } }]);

    // Nor does one read a millisecond before B's.
    await post(
      vehicleState({ vehicleId: "veh-late", userId: "user-a", deliveredAt: Date.now(), signals: at(t2 - 1, [{ code: ODOMETER, body: { value: 199 } }]) }),
    );
    expect((await view("veh-late", admin))?.userId).toBe("user-b");
  });

  it("moves to a newer delivery's user, whenever it arrives", async () => {
    await post(vehicleState({ vehicleId: "veh-newer", userId: "user-a", deliveredAt: t1, signals: at(t1, [{ code: ODOMETER }]) }));
    // Delivered long after, but read after A's: B owns the vehicle.
    await post(vehicleState({ vehicleId: "veh-newer", userId: "user-b", deliveredAt: t1 - HOUR, signals: at(t2, [{ code: ODOMETER }]) }));
    expect((await view("veh-newer", admin))?.userId).toBe("user-b");
    expect(await view("veh-newer", userA)).toBeNull();
  });

  it("goes to the newest-read delivery's user within one batch too (the spool drains in batches), whatever their order", async () => {
    const delivery = (userId: string, readAt: number) =>
      normalizeDelivery(vehicleState({ vehicleId: "veh-batch", userId, deliveredAt: Date.now(), signals: at(readAt, [{ code: ODOMETER }]) })) as DataDelivery;
    const batch = [delivery("user-b", t2), delivery("user-a", t0), delivery("user-c", t1)].map((item) => ({
      delivery: item,
      rawBody: Buffer.from("{}"),
      receivedAt: new Date(),
    }));
    await t.app.dataSource.transaction((manager) =>
      applyDeliveries(manager, batch, { applyTestDeliveries: false, publisher: { publish: async () => {} } }),
    );
    expect((await view("veh-batch", admin))?.userId).toBe("user-b");
    const readings = await t.app.dataSource.query(`SELECT user_id FROM signal_readings WHERE vehicle_id = 'veh-batch' ORDER BY id`);
    expect(readings).toEqual([{ user_id: "user-b" }, { user_id: "user-a" }, { user_id: "user-c" }]);
  });

  it("shows the new owner none of the previous owner's values, history, locations, errors or issues", async () => {
    await handOver("veh-sold");
    const b = await view("veh-sold", userB);
    expect(b).toMatchObject({
      userId: "user-b",
      signals: [
        { code: LOCATION, value: null },
        { code: ODOMETER, value: 200 },
      ],
      asOfT1: [],
      odometer: { history: { totalCount: 1, edges: [{ node: { value: 200 } }] } },
      location: { body: { latitude: 52.5, longitude: 13.4 }, history: { edges: [{ node: { body: { latitude: 52.5, longitude: 13.4 } } }] } },
      signalErrors: [],
      issues: [{ type: "CONNECTED_SERVICES_ACCOUNT", code: "SUBSCRIPTION" }],
    });
    const buckets = b!.odometer!.series.filter((bucket) => bucket.count > 0);
    expect(buckets).toEqual([{ count: 1, min: 200, max: 200 }]);

    // Values A's late delivery brought (a late odometer reading, a new signal) stay A's as well.
    await post(lateForA("veh-sold"));
    const after = await view("veh-sold", userB);
    expect(after?.signals.map((signal) => signal.code)).toEqual([LOCATION, ODOMETER]);
    expect(after?.odometer?.history.totalCount).toBe(1);

    // The admin sees all of it, each delivered for its user.
    const all = await view("veh-sold", admin);
    expect(all?.odometer?.history.edges.map((edge) => edge.node.value)).toEqual([200, 150, 100]);
    expect(all?.location?.history.edges.map((edge) => edge.node.body.latitude)).toEqual([52.5, 48.1]);
    expect(all?.signalErrors).toEqual([{ code: VOLTAGE }]);
    expect(all?.issues.map((issue) => issue.type).sort()).toEqual(["CONNECTED_SERVICES_ACCOUNT", "VEHICLE_STATE"]);
  });

  it("shows the new owner their own latest value even when the previous owner's late one is newer by the car's clock", async () => {
    // B's odometer was last updated in the car at t1 - 1 h (read at t2); A's late delivery (read at t0) has it from t0.
    await post(vehicleState({ vehicleId: "veh-clock", userId: "user-a", deliveredAt: t1, signals: at(t1, [{ code: ODOMETER, body: { value: 100 } }]) }));
    await post(
      vehicleState({
        vehicleId: "veh-clock",
        userId: "user-b",
        deliveredAt: t2,
        signals: [{ code: ODOMETER, body: { value: 90 }, oemUpdatedAt: t1 - HOUR, retrievedAt: t2 }],
      }),
    );
    await post(lateForA("veh-clock"));
    expect((await view("veh-clock", admin))?.signals).toContainEqual({ code: ODOMETER, value: 150 });
    const b = await view("veh-clock", userB);
    expect(b?.userId).toBe("user-b");
    expect(b?.signals).toEqual([{ code: ODOMETER, value: 90 }]);
  });

  it("shows the previous owner none of the new owner's issues", async () => {
    await handOver("veh-sold-2");
    const issues = `{ issues(vehicleId: "veh-sold-2") { totalCount edges { node { type vehicle { id } } } } }`;
    const forA = await gqlData<{ issues: { totalCount: number; edges: unknown[] } }>(t.url, issues, { token: userA });
    // A's own issue is still A's (its vehicle is no longer theirs); B's is not there.
    expect(forA.issues).toEqual({ totalCount: 1, edges: [{ node: { type: "VEHICLE_STATE", vehicle: null } }] });
    const forB = await gqlData<{ issues: { totalCount: number; edges: unknown[] } }>(t.url, issues, { token: userB });
    expect(forB.issues).toEqual({ totalCount: 1, edges: [{ node: { type: "CONNECTED_SERVICES_ACCOUNT", vehicle: { id: "veh-sold-2" } } }] });
  });

  it("opens a separate issue for the new owner when Smartcar reports the same error for them", async () => {
    await handOver("veh-sold-3");
    await post(vehicleError({ vehicleId: "veh-sold-3", userId: "user-b", deliveredAt: t2 + 1, errors: [{ type: "VEHICLE_STATE", code: "ASLEEP", state: "ERROR" }] }));
    const query = `{ vehicle(id: "veh-sold-3") { issues(state: OPEN) { type reopenCount occurrences episodes { openedAt } } } }`;
    const b = await gqlData<{ vehicle: { issues: Array<{ type: string; occurrences: number; episodes: Array<{ openedAt: string }> }> } }>(t.url, query, { token: userB });
    const asleep = b.vehicle.issues.find((issue) => issue.type === "VEHICLE_STATE");
    expect(asleep).toMatchObject({ reopenCount: 0, occurrences: 1, episodes: [{ openedAt: iso(t2 + 1) }] });
  });

  it("replays and pushes to the new owner only their own changes", async () => {
    const since = new Date().toISOString();
    await handOver("veh-live");
    const live = connectLive(t.wsUrl, { token: userB });
    const signals = await live.subscribe<{ signalUpdated: { code: string; value: number | null } }>(
      `subscription ($since: DateTime) { signalUpdated(vehicleId: "veh-live", since: $since) { code value } }`,
      { since },
    );
    const issues = await live.subscribe<{ vehicleIssueUpdated: { type: string } }>(
      `subscription ($since: DateTime) { vehicleIssueUpdated(vehicleId: "veh-live", since: $since) { type } }`,
      { since },
    );
    expect((await signals.take(2)).map((event) => event.signalUpdated.code).sort()).toEqual([LOCATION, ODOMETER]);
    expect(await issues.next()).toEqual({ vehicleIssueUpdated: { type: "CONNECTED_SERVICES_ACCOUNT" } });

    // A's late delivery makes a new signal latest, for A: B does not hear of it; B's next value comes next.
    await post(lateForA("veh-live", 42));
    await post(vehicleError({ vehicleId: "veh-live", userId: "user-a", deliveredAt: Date.now(), errors: [{ type: "VEHICLE_STATE", code: "ASLEEP", state: "RESOLVED" }] }));
    await post(vehicleState({ vehicleId: "veh-live", userId: "user-b", deliveredAt: t2 + HOUR, signals: at(t2 + HOUR, [{ code: SOC, body: { value: 80 } }]) }));
    await post(vehicleError({ vehicleId: "veh-live", userId: "user-b", deliveredAt: t2 + HOUR, errors: [{ type: "PERMISSION", code: null, state: "ERROR" }] }));
    expect(await signals.next()).toEqual({ signalUpdated: { code: SOC, value: 80 } });
    expect(await issues.next()).toEqual({ vehicleIssueUpdated: { type: "PERMISSION" } });
    expect(signals.pending + issues.pending).toBe(0);

    // A subscription started now, resuming from before the hand-over, replays the same.
    const again = connectLive(t.wsUrl, { token: userB });
    const replay = await again.subscribe<{ signalUpdated: { code: string; value: number | null } }>(
      `subscription ($since: DateTime) { signalUpdated(vehicleId: "veh-live", since: $since) { code value } }`,
      { since },
    );
    expect((await replay.take(3)).map((event) => event.signalUpdated.code).sort()).toEqual([LOCATION, ODOMETER, SOC]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(replay.pending).toBe(0);
  });
});
