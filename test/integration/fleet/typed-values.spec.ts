import { randomUUID } from "node:crypto";
import { typedValue } from "../../../src/signals/typed-value";
import { gqlData } from "../../helpers/graphql";
import { postDelivery, vehicleState, type SignalSpec } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";
import { connectLive, signToken, type LiveClient } from "../../helpers/ws-client";

const T0 = Date.parse("2026-11-01T10:00:00Z");
const TYPED = "kind value number boolean text location { latitude longitude heading direction locationType }";

/** One signal of each kind, as Smartcar sends them (smartcar.md §5.1). */
const BODIES: Record<string, unknown> = {
  "tractionbattery-stateofcharge": { unit: "percent", value: 78 },
  "odometer-traveleddistance": { percentage: 75 },
  "closure-islocked": { value: true },
  "charge-detailedchargingstatus": { value: "CHARGING" },
  "location-preciselocation": { latitude: 51.5014, longitude: -0.1419, direction: "NE", heading: 45.3, locationType: "PARKED" },
  "closure-doors": { values: [{ row: 0, column: 0, isOpen: false, isLocked: true }], rowCount: 1, columnCount: 1 },
  "vehicleidentification-nickname": { value: null },
};

const NONE = { number: null, boolean: null, text: null, location: null };
/** What a client reads for each code. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  "tractionbattery-stateofcharge": { ...NONE, kind: "NUMBER", value: 78, number: 78 },
  "odometer-traveleddistance": { ...NONE, kind: "NUMBER", value: 75, number: 75 },
  "closure-islocked": { ...NONE, kind: "BOOLEAN", value: null, boolean: true },
  "charge-detailedchargingstatus": { ...NONE, kind: "TEXT", value: null, text: "CHARGING" },
  "location-preciselocation": {
    ...NONE,
    kind: "LOCATION",
    value: null,
    location: { latitude: 51.5014, longitude: -0.1419, heading: 45.3, direction: "NE", locationType: "PARKED" },
  },
  "closure-doors": { ...NONE, kind: "OBJECT", value: null },
  "vehicleidentification-nickname": { ...NONE, kind: "NULL", value: null },
};

const signals = (oemUpdatedAt: number): SignalSpec[] => Object.entries(BODIES).map(([code, body]) => ({ code, body, oemUpdatedAt }));
const byCode = (list: Array<{ code: string } & Record<string, unknown>>) =>
  Object.fromEntries(list.map(({ code, ...rest }) => [code, rest]));

describe("typed signal values", () => {
  let t: TestApp;
  let admin: string;
  let live: LiveClient;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signToken({ role: "admin" });
    live = connectLive(t.wsUrl, { token: admin });
  });

  it("gives every kind over HTTP: latest values, one signal, every history and asOf", async () => {
    const vehicleId = randomUUID();
    expect(await postDelivery(t.url, vehicleState({ vehicleId, signals: signals(T0) }))).toMatchObject({ status: 200 });
    const data = await gqlData<{
      vehicle: {
        signals: Array<{ code: string }>;
        asOf: Array<{ code: string }>;
        lock: Record<string, unknown>;
        place: { history: { edges: Array<{ node: Record<string, unknown> }> } };
        histories: Array<{ code: string; history: { edges: Array<{ node: Record<string, unknown> }> } }>;
      };
    }>(
      t.url,
      `query ($id: ID!, $asOf: DateTime!) { vehicle(id: $id) {
         signals { code ${TYPED} }
         asOf: signals(asOf: $asOf) { code ${TYPED} }
         lock: signal(code: "closure-islocked") { ${TYPED} }
         place: signal(code: "location-preciselocation") { history { edges { node { ${TYPED} } } } }
         histories: signals { code history { edges { node { ${TYPED} } } } }
       } }`,
      { token: admin, variables: { id: vehicleId, asOf: new Date(T0).toISOString() } },
    );
    expect(byCode(data.vehicle.signals)).toEqual(EXPECTED);
    expect(byCode(data.vehicle.asOf)).toEqual(EXPECTED);
    expect(data.vehicle.lock).toEqual(EXPECTED["closure-islocked"]);
    expect(data.vehicle.place.history.edges.map((edge) => edge.node)).toEqual([EXPECTED["location-preciselocation"]]);
    expect(Object.fromEntries(data.vehicle.histories.map(({ code, history }) => [code, history.edges.map((edge) => edge.node)]))).toEqual(
      Object.fromEntries(Object.entries(EXPECTED).map(([code, typed]) => [code, [typed]])),
    );
  });

  it("gives every kind in signalUpdated over WebSocket, live and replayed", async () => {
    const vehicleId = randomUUID();
    const updates = await live.subscribe<{ signalUpdated: { code: string } }>(
      `subscription ($vehicleId: ID) { signalUpdated(vehicleId: $vehicleId) { code ${TYPED} } }`,
      { vehicleId },
    );
    const before = new Date(Date.now() - 1000).toISOString();
    await postDelivery(t.url, vehicleState({ vehicleId, signals: signals(T0) }));
    const events = await updates.take(Object.keys(BODIES).length);
    expect(byCode(events.map((event) => event.signalUpdated))).toEqual(EXPECTED);
    // The same values replayed from history to a client resuming with `since`.
    const replayed = await live.subscribe<{ signalUpdated: { code: string } }>(
      `subscription ($vehicleId: ID, $since: DateTime) { signalUpdated(vehicleId: $vehicleId, since: $since) { code ${TYPED} } }`,
      { vehicleId, since: before },
    );
    expect(byCode((await replayed.take(Object.keys(BODIES).length)).map((event) => event.signalUpdated))).toEqual(EXPECTED);
  });

  it("keeps the previous release's inserts working during a rolling upgrade (no kind yet)", async () => {
    const vehicleId = randomUUID();
    await postDelivery(t.url, vehicleState({ vehicleId, signals: [{ code: "x-old", body: { value: 1 }, oemUpdatedAt: T0 }] }));
    const at = new Date(T0 + 1000).toISOString();
    await t.app.dataSource.query(
      `INSERT INTO signal_readings (vehicle_id, code, body, value, retrieved_at, applied_at, observed_at, event_id)
       VALUES ($1, 'x-old', '{"value": 2}', 2, $2, $2, $2, 'previous-release')`,
      [vehicleId, at],
    );
    const data = await gqlData<{ vehicle: { signals: Array<{ code: string }> } }>(
      t.url,
      `query ($id: ID!, $asOf: DateTime!) { vehicle(id: $id) { signals(asOf: $asOf) { code ${TYPED} } } }`,
      { token: admin, variables: { id: vehicleId, asOf: at } },
    );
    // The typed fields come from the body, so they are right even where the stored kind is missing.
    expect(data.vehicle.signals).toEqual([{ code: "x-old", ...NONE, kind: "NUMBER", value: 2, number: 2 }]);
  });

  it("stores the kind and typed columns on values and readings, and the migration backfills the same", async () => {
    const vehicleId = randomUUID();
    const odd: SignalSpec[] = [
      { code: "x-bare", body: 5 },
      { code: "x-offearth", body: { latitude: 91, longitude: 0 } },
      { code: "x-textcoordinates", body: { latitude: "1", longitude: 2 } },
      { code: "x-list", body: { value: [1] } },
      { code: "x-nullvalue", body: { value: null, percentage: 3 } },
      { code: "x-edge", body: { latitude: -90, longitude: 180 } },
    ];
    await postDelivery(t.url, vehicleState({ vehicleId, signals: [...signals(T0), ...odd] }));
    const stored = async () => {
      const rows: Array<Record<string, unknown>> = await t.app.dataSource.query(
        `SELECT 'signals' AS "table", code, body, kind, value_boolean, value_text, latitude, longitude FROM signals WHERE vehicle_id = $1
         UNION ALL
         SELECT 'signal_readings', code, body, kind, value_boolean, value_text, latitude, longitude FROM signal_readings WHERE vehicle_id = $1
         ORDER BY 1, 2`,
        [vehicleId],
      );
      return rows;
    };
    const applied = await stored();
    expect(applied).toHaveLength(2 * (Object.keys(BODIES).length + odd.length));
    for (const row of applied) {
      const typed = typedValue(row.body);
      expect(row).toEqual({
        ...row,
        kind: typed.kind,
        value_boolean: typed.boolean,
        value_text: typed.text,
        latitude: typed.location?.latitude ?? null,
        longitude: typed.location?.longitude ?? null,
      });
    }

    // Undone (with any newer ones) and applied again, TypedSignalValues backfills these rows.
    const db = t.app.dataSource;
    const migrated = async () => (await db.query<Array<{ name: string }>>("SELECT name FROM migrations")).map((row) => row.name);
    while ((await migrated()).includes("TypedSignalValues1796100000000")) await db.undoLastMigration({ transaction: "each" });
    expect(await t.app.dataSource.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'signals' AND column_name = 'kind'")).toEqual([]);
    await t.app.dataSource.runMigrations({ transaction: "each" });
    expect(await stored()).toEqual(applied);
  });
});
