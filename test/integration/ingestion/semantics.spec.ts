import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { postDelivery, vehicleError, vehicleState, type SignalSpec } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

const SOC = "tractionbattery-stateofcharge";
const T0 = Date.parse("2026-11-01T10:00:00Z");

describe("POST /webhooks/smartcar semantics", () => {
  let t: TestApp;
  const query = <T>(sql: string, params: unknown[] = []) => t.app.dataSource.query<T[]>(sql, params);
  const latest = (vehicleId: string, code = SOC) =>
    query<{ value: number; event_id: string }>("SELECT value, event_id FROM signals WHERE vehicle_id = $1 AND code = $2", [
      vehicleId,
      code,
    ]).then((rows) => rows[0]);
  const history = (vehicleId: string, code = SOC) =>
    query<{ value: number; late: boolean }>(
      "SELECT value, late FROM signal_readings WHERE vehicle_id = $1 AND code = $2 ORDER BY id",
      [vehicleId, code],
    );
  const soc = (value: number, oemUpdatedAt: number): SignalSpec => ({ code: SOC, body: { unit: "percent", value }, oemUpdatedAt });

  beforeAll(async () => {
    t = await startTestApp();
  });

  describe("retries", () => {
    it("answers a retried event (same eventId, new deliveryId) as a duplicate and changes nothing", async () => {
      const vehicleId = randomUUID();
      const first = vehicleState({ vehicleId, signals: [soc(80, T0)] });
      expect((await postDelivery(t.url, first)).body).toEqual({ status: "applied", eventId: first.eventId });

      // Smartcar's retry: the same event, a new delivery id and time, and meanwhile different content is ignored.
      const retry = { ...first, meta: { ...(first.meta as object), deliveryId: randomUUID(), deliveredAt: T0 + 25_000 } };
      expect((await postDelivery(t.url, retry)).body).toEqual({ status: "duplicate", eventId: first.eventId });

      expect(await history(vehicleId)).toEqual([{ value: 80, late: false }]);
      const [event] = await query<{ attempts: number }>("SELECT attempts FROM webhook_events WHERE event_id = $1", [first.eventId]);
      expect(event.attempts).toBe(2);
    });

    it("applies an event once when its retries race each other", async () => {
      const vehicleId = randomUUID();
      const delivery = vehicleState({ vehicleId, signals: [soc(55, T0)] });
      const results = await Promise.all(Array.from({ length: 8 }, () => postDelivery(t.url, delivery)));
      const statuses = results.map((result) => (result.body as { status: string }).status).sort();
      expect(statuses).toEqual(["applied", ...Array(7).fill("duplicate")]);
      expect(await history(vehicleId)).toHaveLength(1);
    });
  });

  describe("newest wins", () => {
    it("keeps a late reading in history, marked late, without replacing the newer latest value", async () => {
      const vehicleId = randomUUID();
      await postDelivery(t.url, vehicleState({ vehicleId, signals: [soc(70, T0 + 60_000)] }));
      const old = vehicleState({ vehicleId, signals: [soc(90, T0)] });
      expect((await postDelivery(t.url, old)).body).toMatchObject({ status: "applied" });
      expect((await latest(vehicleId)).value).toBe(70);
      expect(await history(vehicleId)).toEqual([
        { value: 70, late: false },
        { value: 90, late: true },
      ]);
    });

    it("orders by retrievedAt when oemUpdatedAt is 0 (no timestamp)", async () => {
      const vehicleId = randomUUID();
      const vin = (value: string, retrievedAt: number): SignalSpec => ({
        code: "vehicleidentification-vin",
        body: { value },
        oemUpdatedAt: 0,
        retrievedAt,
      });
      await postDelivery(t.url, vehicleState({ vehicleId, signals: [vin("NEWER", T0 + 1000)] }));
      await postDelivery(t.url, vehicleState({ vehicleId, signals: [vin("OLDER", T0)] }));
      const [row] = await query<{ body: { value: string }; oem_updated_at: Date | null }>(
        "SELECT body, oem_updated_at FROM signals WHERE vehicle_id = $1",
        [vehicleId],
      );
      expect(row).toEqual({ body: { value: "NEWER" }, oem_updated_at: null });
    });

    it("keeps unknown signal codes and body shapes exactly as they came", async () => {
      const vehicleId = randomUUID();
      const body = { nested: { list: [1, "two", null], flag: true } };
      await postDelivery(t.url, vehicleState({ vehicleId, signals: [{ code: "future-signal", body, oemUpdatedAt: T0 }] }));
      const [row] = await query<{ body: unknown; value: number | null }>("SELECT body, value FROM signals WHERE vehicle_id = $1", [
        vehicleId,
      ]);
      expect(row).toEqual({ body, value: null });
    });
  });

  describe("signal errors", () => {
    it("records a failing signal, keeps its last good value, and clears the error on a later good value", async () => {
      const vehicleId = randomUUID();
      await postDelivery(t.url, vehicleState({ vehicleId, deliveredAt: T0, signals: [soc(60, T0)] }));
      const failed: SignalSpec = { code: SOC, error: { type: "VEHICLE_STATE", code: "UNREACHABLE" } };
      await postDelivery(t.url, vehicleState({ vehicleId, deliveredAt: T0 + 1000, signals: [failed] }));
      expect((await latest(vehicleId)).value).toBe(60);
      expect(await query("SELECT error_type, error_code FROM signal_errors WHERE vehicle_id = $1", [vehicleId])).toEqual([
        { error_type: "VEHICLE_STATE", error_code: "UNREACHABLE" },
      ]);

      await postDelivery(t.url, vehicleState({ vehicleId, deliveredAt: T0 + 2000, signals: [soc(58, T0 + 2000)] }));
      expect(await query("SELECT 1 FROM signal_errors WHERE vehicle_id = $1", [vehicleId])).toEqual([]);
      expect((await latest(vehicleId)).value).toBe(58);
    });

    it("does not record an error older than the last successful read", async () => {
      const vehicleId = randomUUID();
      await postDelivery(t.url, vehicleState({ vehicleId, deliveredAt: T0 + 5000, signals: [soc(60, T0 + 5000)] }));
      const failed: SignalSpec = { code: SOC, error: { type: "VEHICLE_STATE", code: "UNREACHABLE" } };
      await postDelivery(t.url, vehicleState({ vehicleId, deliveredAt: T0, signals: [failed] }));
      expect(await query("SELECT 1 FROM signal_errors WHERE vehicle_id = $1", [vehicleId])).toEqual([]);
    });
  });

  describe("vehicle issues", () => {
    const unreachable = (state: "ERROR" | "RESOLVED") => ({ type: "VEHICLE_STATE", code: "UNREACHABLE", state, signals: [SOC] });
    const issues = (vehicleId: string) =>
      query<{ state: string; opened_at: Date; resolved_at: Date | null; reopen_count: number; occurrences: number }>(
        "SELECT state, opened_at, resolved_at, reopen_count, occurrences FROM vehicle_issues WHERE vehicle_id = $1",
        [vehicleId],
      );

    it("opens an issue on ERROR, refreshes it on repeats and resolves it on RESOLVED", async () => {
      const vehicleId = randomUUID();
      await postDelivery(t.url, vehicleError({ vehicleId, deliveredAt: T0, errors: [unreachable("ERROR")] }));
      await postDelivery(t.url, vehicleError({ vehicleId, deliveredAt: T0 + 1000, errors: [unreachable("ERROR")] }));
      await postDelivery(t.url, vehicleError({ vehicleId, deliveredAt: T0 + 2000, errors: [unreachable("RESOLVED")] }));
      expect(await issues(vehicleId)).toEqual([
        { state: "RESOLVED", opened_at: new Date(T0), resolved_at: new Date(T0 + 2000), reopen_count: 0, occurrences: 2 },
      ]);
      const changes = await query<{ change: string }>(
        "SELECT e.change FROM vehicle_issue_changes e JOIN vehicle_issues i ON i.id = e.issue_id WHERE i.vehicle_id = $1 ORDER BY e.id",
        [vehicleId],
      );
      expect(changes.map((row) => row.change)).toEqual(["OPENED", "REFRESHED", "RESOLVED"]);
    });

    it("reopens a resolved issue that comes back, counting it", async () => {
      const vehicleId = randomUUID();
      await postDelivery(t.url, vehicleError({ vehicleId, deliveredAt: T0, errors: [unreachable("ERROR")] }));
      await postDelivery(t.url, vehicleError({ vehicleId, deliveredAt: T0 + 1000, errors: [unreachable("RESOLVED")] }));
      await postDelivery(t.url, vehicleError({ vehicleId, deliveredAt: T0 + 5000, errors: [unreachable("ERROR")] }));
      expect(await issues(vehicleId)).toEqual([
        { state: "OPEN", opened_at: new Date(T0 + 5000), resolved_at: null, reopen_count: 1, occurrences: 2 },
      ]);
    });

    it("never lets an older ERROR reopen a newer resolution", async () => {
      const vehicleId = randomUUID();
      await postDelivery(t.url, vehicleError({ vehicleId, deliveredAt: T0 + 1000, errors: [unreachable("RESOLVED")] }));
      await postDelivery(t.url, vehicleError({ vehicleId, deliveredAt: T0, errors: [unreachable("ERROR")] }));
      expect(await issues(vehicleId)).toMatchObject([{ state: "RESOLVED", resolved_at: new Date(T0 + 1000) }]);
    });

    it("keeps issues of different type and code apart", async () => {
      const vehicleId = randomUUID();
      await postDelivery(
        t.url,
        vehicleError({
          vehicleId,
          errors: [unreachable("ERROR"), { type: "PERMISSION", code: null, state: "ERROR", resolutionType: "REAUTHENTICATE" }],
        }),
      );
      expect(await issues(vehicleId)).toHaveLength(2);
    });
  });

  describe("TEST-mode deliveries", () => {
    it("are kept raw and answered `test` without touching live state", async () => {
      const vehicleId = randomUUID();
      const delivery = vehicleState({ vehicleId, mode: "TEST", signals: [soc(1, T0)] });
      expect((await postDelivery(t.url, delivery)).body).toEqual({ status: "test", eventId: delivery.eventId });
      expect(await query("SELECT 1 FROM vehicles WHERE id = $1", [vehicleId])).toEqual([]);
      expect(await query("SELECT outcome FROM webhook_events WHERE event_id = $1", [delivery.eventId])).toEqual([{ outcome: "test" }]);
    });

    it("are applied like LIVE ones with SMARTCAR_APPLY_TEST_DELIVERIES=true", async () => {
      const other = await startTestApp({ SMARTCAR_APPLY_TEST_DELIVERIES: "true" });
      const vehicleId = randomUUID();
      const delivery = vehicleState({ vehicleId, mode: "TEST", signals: [soc(42, T0)] });
      expect((await postDelivery(other.url, delivery)).body).toEqual({ status: "applied", eventId: delivery.eventId });
      expect((await latest(vehicleId)).value).toBe(42);
    });
  });

  describe("concurrency", () => {
    it("applies 40 concurrent deliveries for one vehicle without losing or reordering any", async () => {
      const vehicleId = randomUUID();
      const deliveries = Array.from({ length: 40 }, (_, i) =>
        vehicleState({ vehicleId, signals: [soc(i, T0 + i * 1000), { code: "odometer-traveleddistance", body: { value: i }, oemUpdatedAt: T0 + i * 1000 }] }),
      );
      const results = await Promise.all([...deliveries].reverse().map((delivery) => postDelivery(t.url, delivery)));
      expect(results.every((result) => result.status === 200)).toBe(true);
      expect((await latest(vehicleId)).value).toBe(39);
      expect((await latest(vehicleId, "odometer-traveleddistance")).value).toBe(39);
      expect(await history(vehicleId)).toHaveLength(40);
    });

    it("stamps history once the vehicle is locked, so each vehicle's times follow commit order (resume relies on it)", async () => {
      const vehicleId = randomUUID();
      await postDelivery(t.url, vehicleState({ vehicleId, signals: [soc(1, T0)] }));
      const blocker = t.app.dataSource.createQueryRunner();
      await blocker.connect();
      await blocker.startTransaction();
      let released: Date;
      let waiting: Promise<unknown>;
      try {
        await blocker.query("SELECT 1 FROM vehicles WHERE id = $1 FOR UPDATE", [vehicleId]);
        // Received now, but it must wait for the lock: stamped after the blocker is gone.
        waiting = postDelivery(t.url, vehicleState({ vehicleId, signals: [soc(2, T0 + 1000)] }));
        await new Promise((resolve) => setTimeout(resolve, 300));
        [{ now: released }] = await blocker.query("SELECT clock_timestamp() AS now");
      } finally {
        await blocker.commitTransaction();
        await blocker.release();
      }
      await waiting;
      const [reading] = await query<{ applied_at: Date }>(
        "SELECT applied_at FROM signal_readings WHERE vehicle_id = $1 ORDER BY id DESC LIMIT 1",
        [vehicleId],
      );
      expect(reading.applied_at.getTime()).toBeGreaterThanOrEqual(released.getTime());
    });

    it("ends in the same state for any permutation posted concurrently as for time order (property)", async () => {
      // A small pool of signals, values and instants makes ties, late readings and errors likely.
      const reading = fc.record({
        code: fc.constantFrom(SOC, "odometer-traveleddistance", "charge-ischarging"),
        value: fc.integer({ min: 0, max: 100 }),
        at: fc.integer({ min: 0, max: 5 }),
        failed: fc.boolean(),
      });
      const deliveries = fc.array(fc.array(reading, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 7 });

      await fc.assert(
        fc.asyncProperty(deliveries, fc.infiniteStream(fc.nat()), async (specs, randomness) => {
          const build = (vehicleId: string, run: string) =>
            specs.map((signals, i) =>
              vehicleState({
                vehicleId,
                // Same eventIds order in both runs: ties between equal instants break the same way.
                eventId: `${run}-${String(i).padStart(2, "0")}`,
                deliveredAt: T0 + Math.max(...signals.map((s) => s.at)) * 1000,
                signals: uniqueByCode(signals).map((s) =>
                  s.failed
                    ? { code: s.code, error: { type: "VEHICLE_STATE", code: "UNREACHABLE" } }
                    : { code: s.code, body: { value: s.value }, oemUpdatedAt: T0 + s.at * 1000 },
                ),
              }),
            );
          const run = randomUUID();
          const inOrder = randomUUID();
          const shuffled = randomUUID();
          const ordered = build(inOrder, `${run}-a`).sort((a, b) => deliveredAt(a) - deliveredAt(b));
          for (const delivery of ordered) await postDelivery(t.url, delivery);
          const permuted = shuffle(build(shuffled, `${run}-a`.replace(/-a$/, "-b")), randomness);
          await Promise.all(permuted.map((delivery) => postDelivery(t.url, delivery)));
          expect(await stateOf(shuffled)).toEqual(await stateOf(inOrder));
        }),
        { numRuns: 15 },
      );

      async function stateOf(vehicleId: string) {
        const signals = await query("SELECT code, body, observed_at FROM signals WHERE vehicle_id = $1 ORDER BY code", [vehicleId]);
        const errors = await query("SELECT code, error_type FROM signal_errors WHERE vehicle_id = $1 ORDER BY code", [vehicleId]);
        return { signals, errors };
      }
    });
  });
});

function uniqueByCode<T extends { code: string }>(signals: T[]): T[] {
  return [...new Map(signals.map((s) => [s.code, s])).values()];
}

function deliveredAt(delivery: Record<string, unknown>): number {
  return (delivery.meta as { deliveredAt: number }).deliveredAt;
}

function shuffle<T>(items: T[], randomness: fc.Stream<number>): T[] {
  const result = [...items];
  const numbers = randomness[Symbol.iterator]();
  for (let i = result.length - 1; i > 0; i--) {
    const j = (numbers.next().value as number) % (i + 1);
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}
