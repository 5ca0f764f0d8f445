import { randomUUID } from "node:crypto";
import { postDelivery, vehicleError, vehicleState, type SignalSpec } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";
import { connectLive, signToken, type LiveClient } from "../../helpers/ws-client";

const SOC = "tractionbattery-stateofcharge";
const ODO = "odometer-traveleddistance";
const T0 = Date.parse("2026-11-01T10:00:00Z");

const SIGNAL_UPDATED = `subscription ($vehicleId: ID, $codes: [String!], $since: DateTime) {
  signalUpdated(vehicleId: $vehicleId, codes: $codes, since: $since) {
    vehicleId code name group body value unit retrievedAt oemUpdatedAt receivedAt
  }
}`;
const ISSUE_UPDATED = `subscription ($vehicleId: ID, $state: IssueState, $since: DateTime) {
  vehicleIssueUpdated(vehicleId: $vehicleId, state: $state, since: $since) {
    id vehicleId type code state resolvedAt openedAt vehicle { id make }
  }
}`;

interface SignalEvent {
  signalUpdated: { vehicleId: string; code: string; value: number | null; body: unknown; unit: string | null; oemUpdatedAt: string; receivedAt: string };
}
interface IssueEvent {
  vehicleIssueUpdated: {
    id: string;
    vehicleId: string;
    type: string;
    code: string | null;
    state: string;
    resolvedAt: string | null;
    vehicle: { id: string; make: string } | null;
  };
}

const soc = (value: number, oemUpdatedAt: number): SignalSpec => ({ code: SOC, body: { unit: "percent", value }, oemUpdatedAt });
const odo = (value: number, oemUpdatedAt: number): SignalSpec => ({ code: ODO, body: { unit: "km", value }, oemUpdatedAt });
/** What a subscriber notices of a signal event. */
const seen = (event: SignalEvent) => [event.signalUpdated.vehicleId, event.signalUpdated.code, event.signalUpdated.value];
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("subscriptions over graphql-ws", () => {
  let t: TestApp;
  let live: LiveClient;

  async function post(payload: Record<string, unknown>, expected = "applied"): Promise<void> {
    const result = await postDelivery(t.url, payload);
    expect(result).toMatchObject({ status: 200, body: { status: expected } });
  }

  beforeAll(async () => {
    t = await startTestApp();
    live = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
  });

  describe("signalUpdated", () => {
    it("pushes the new values of the subscribed vehicle, only for the codes asked for", async () => {
      const vehicleId = randomUUID();
      const other = randomUUID();
      const socOnly = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId, codes: [SOC] });
      const everything = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
      const start = new Date().toISOString();
      const noCodes = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId, codes: [], since: start });

      await post(vehicleState({ vehicleId, signals: [soc(80, T0), odo(1200, T0)] }));
      await post(vehicleState({ vehicleId: other, signals: [soc(50, T0)] }));
      await post(vehicleState({ vehicleId, signals: [soc(79, T0 + 60_000)] }));

      expect((await socOnly.take(2)).map(seen)).toEqual([
        [vehicleId, SOC, 80],
        [vehicleId, SOC, 79],
      ]);
      expect((await everything.take(3)).map(seen)).toEqual([
        [vehicleId, SOC, 80],
        [vehicleId, ODO, 1200],
        [vehicleId, SOC, 79],
      ]);
      // The sentinel, subscribed after `noCodes` on the same socket, replays what `noCodes` would have
      // replayed and received live: once it has everything, `noCodes` had its chance and took none.
      const sentinel = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId, since: start });
      expect((await sentinel.take(3)).map(seen)).toEqual([
        [vehicleId, SOC, 80],
        [vehicleId, ODO, 1200],
        [vehicleId, SOC, 79],
      ]);
      expect(noCodes.history).toEqual([]);
    });

    it("sends the value as it became latest: body, unit and times", async () => {
      const vehicleId = randomUUID();
      const subscription = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
      const before = Date.now();
      await post(vehicleState({ vehicleId, signals: [{ ...soc(77.5, T0), retrievedAt: T0 + 500, name: "StateOfCharge", group: "TractionBattery" }] }));

      const { signalUpdated } = await subscription.next();
      expect(signalUpdated).toEqual({
        vehicleId,
        code: SOC,
        name: "StateOfCharge",
        group: "TractionBattery",
        body: { unit: "percent", value: 77.5 },
        value: 77.5,
        unit: "percent",
        retrievedAt: new Date(T0 + 500).toISOString(),
        oemUpdatedAt: new Date(T0).toISOString(),
        receivedAt: expect.any(String),
      });
      expect(Date.parse(signalUpdated.receivedAt)).toBeGreaterThanOrEqual(before - 1);
    });

    it("sends nothing for a duplicate, a stale reading or a TEST delivery", async () => {
      const vehicleId = randomUUID();
      const subscription = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
      const first = vehicleState({ vehicleId, signals: [soc(60, T0)] });
      await post(first);
      await post({ ...first, meta: { ...(first.meta as object), deliveryId: randomUUID() } }, "duplicate");
      await post(vehicleState({ vehicleId, signals: [soc(61, T0 - 60_000)] })); // older than the stored value
      await post(vehicleState({ vehicleId, mode: "TEST", signals: [soc(62, T0 + 60_000)] }), "test");
      await post(vehicleState({ vehicleId, signals: [soc(63, T0 + 120_000)] }));

      expect((await subscription.take(2)).map(seen)).toEqual([
        [vehicleId, SOC, 60],
        [vehicleId, SOC, 63],
      ]);
    });

    it("sends nothing for a delivery whose transaction rolled back", async () => {
      const vehicleId = randomUUID();
      // A trigger makes the apply fail for one marked value, after the change was published.
      await t.app.dataSource.query(
        `CREATE OR REPLACE FUNCTION fail_marked_reading() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.value = 666 THEN RAISE EXCEPTION 'marked value'; END IF;
           RETURN NEW;
         END $$`,
      );
      // Deferred to commit time: every statement of the apply (and its NOTIFY) has run when it fires.
      await t.app.dataSource.query(
        `CREATE CONSTRAINT TRIGGER fail_marked_reading AFTER INSERT ON signal_readings
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_marked_reading()`,
      );
      const subscription = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
      try {
        const failed = await postDelivery(t.url, vehicleState({ vehicleId, signals: [soc(666, T0)] }));
        expect(failed.status).toBeGreaterThanOrEqual(500);
      } finally {
        await t.app.dataSource.query("DROP TRIGGER fail_marked_reading ON signal_readings");
      }
      await post(vehicleState({ vehicleId, signals: [soc(64, T0 + 1)] }));

      expect(seen(await subscription.next())).toEqual([vehicleId, SOC, 64]);
    });
  });

  describe("vehicleIssueUpdated", () => {
    const incompatible = { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", signals: [SOC] };

    it("pushes an issue when it opens and again when it is resolved", async () => {
      const vehicleId = randomUUID();
      const all = await live.subscribe<IssueEvent>(ISSUE_UPDATED, { vehicleId });
      const resolvedOnly = await live.subscribe<IssueEvent>(ISSUE_UPDATED, { vehicleId, state: "RESOLVED" });

      await post(vehicleError({ vehicleId, errors: [{ ...incompatible, state: "ERROR" }] }));
      const opened = (await all.next()).vehicleIssueUpdated;
      expect(opened).toMatchObject({ vehicleId, type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", state: "OPEN", resolvedAt: null });
      // Fields resolved through the per-event context (DataLoaders) work like over HTTP.
      expect(opened.vehicle).toEqual({ id: vehicleId, make: "TESLA" });

      await post(vehicleError({ vehicleId, errors: [{ ...incompatible, state: "RESOLVED" }] }));
      const resolved = (await all.next()).vehicleIssueUpdated;
      expect(resolved).toMatchObject({ id: opened.id, state: "RESOLVED", resolvedAt: expect.any(String) });
      expect((await resolvedOnly.next()).vehicleIssueUpdated).toMatchObject({ id: opened.id, state: "RESOLVED" });
    });
  });

  describe("resume with since", () => {
    it("replays exactly the missed values in order, then continues live", async () => {
      const vehicleId = randomUUID();
      await post(vehicleState({ vehicleId, signals: [soc(40, T0)] }));
      await pause(5); // so the next receipt time is strictly later than the one before `since`
      const since = new Date();

      // Missed while disconnected: two new values, a retry and a stale value (neither was pushed live).
      const missed = vehicleState({ vehicleId, signals: [soc(41, T0 + 1_000)] });
      await post(missed);
      await post(vehicleState({ vehicleId, signals: [odo(900, T0 + 2_000)] }));
      await post({ ...missed, meta: { ...(missed.meta as object), deliveryId: randomUUID() } }, "duplicate");
      await post(vehicleState({ vehicleId, signals: [soc(39, T0 - 1_000)] }));

      const resumed = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId, since: since.toISOString() });
      expect((await resumed.take(2)).map(seen)).toEqual([
        [vehicleId, SOC, 41],
        [vehicleId, ODO, 900],
      ]);
      await post(vehicleState({ vehicleId, signals: [soc(42, T0 + 3_000)] }));
      expect(seen(await resumed.next())).toEqual([vehicleId, SOC, 42]);
    });

    it("has no gap and no duplicate at the seam while deliveries keep arriving", async () => {
      const vehicleId = randomUUID();
      const since = new Date();
      const values = Array.from({ length: 30 }, (_, index) => index);
      const posting = (async () => {
        for (const value of values) await post(vehicleState({ vehicleId, signals: [soc(value, T0 + value * 1_000)] }));
      })();
      await pause(30); // subscribe while the deliveries are being applied
      const resumed = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId, since: since.toISOString() });
      await posting;
      await post(vehicleState({ vehicleId, signals: [soc(1_000, T0 + 1_000_000)] }));

      const received = (await resumed.take(values.length + 1)).map((event) => event.signalUpdated.value);
      expect(received).toEqual([...values, 1_000]);
    });

    it("resumes an issue subscription from the updatedAt of the last change a client handled", async () => {
      const vehicleId = randomUUID();
      const error = { type: "VEHICLE_STATE", code: "ASLEEP" };
      const ISSUE_TIMES = `subscription ($vehicleId: ID, $since: DateTime) {
        vehicleIssueUpdated(vehicleId: $vehicleId, since: $since) { state updatedAt }
      }`;
      const first = await live.subscribe<{ vehicleIssueUpdated: { state: string; updatedAt: string } }>(ISSUE_TIMES, { vehicleId });
      await post(vehicleError({ vehicleId, deliveredAt: T0, errors: [{ ...error, state: "ERROR" }] }));
      const handled = (await first.next()).vehicleIssueUpdated;
      // Disconnected: the issue resolves and comes back. Resuming from what was handled misses neither.
      await post(vehicleError({ vehicleId, deliveredAt: T0 + 1_000, errors: [{ ...error, state: "RESOLVED" }] }));
      await post(vehicleError({ vehicleId, deliveredAt: T0 + 2_000, errors: [{ ...error, state: "ERROR" }] }));

      const resumed = await live.subscribe<{ vehicleIssueUpdated: { state: string; updatedAt: string } }>(ISSUE_TIMES, {
        vehicleId,
        since: handled.updatedAt,
      });
      const replayed = (await resumed.take(3)).map((event) => event.vehicleIssueUpdated);
      expect(replayed.map((change) => change.state)).toEqual(["OPEN", "RESOLVED", "OPEN"]);
      expect(replayed[0]).toEqual(handled); // the one handled, once more
      expect(new Set(replayed.map((change) => change.updatedAt)).size).toBe(3);
    });

    it("replays issue changes since then, resolution included", async () => {
      const vehicleId = randomUUID();
      const since = new Date(Date.now() - 1);
      const error = { type: "CONNECTED_SERVICES_ACCOUNT", code: "SUBSCRIPTION" };
      await post(vehicleError({ vehicleId, errors: [{ ...error, state: "ERROR" }] }));
      await post(vehicleError({ vehicleId, errors: [{ ...error, state: "RESOLVED" }] }));

      const resumed = await live.subscribe<IssueEvent>(ISSUE_UPDATED, { vehicleId, since: since.toISOString() });
      const [opened, resolved] = (await resumed.take(2)).map((event) => event.vehicleIssueUpdated);
      expect([opened.state, opened.resolvedAt]).toEqual(["OPEN", null]);
      expect(resolved).toMatchObject({ id: opened.id, state: "RESOLVED", resolvedAt: expect.any(String) });
      await post(vehicleError({ vehicleId, errors: [{ ...error, state: "ERROR" }] }));
      expect((await resumed.next()).vehicleIssueUpdated).toMatchObject({ id: opened.id, state: "OPEN" });
    });
  });
});
