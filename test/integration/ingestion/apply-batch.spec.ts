import { randomUUID } from "node:crypto";
import type { Change } from "../../../src/changes/change";
import { applyDeliveries } from "../../../src/webhooks/apply-deliveries";
import type { IncomingDelivery } from "../../../src/webhooks/incoming-delivery";
import { normalizeDelivery } from "../../../src/webhooks/normalize";
import type { DataDelivery } from "../../../src/webhooks/normalized-delivery";
import { vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

const SOC = "tractionbattery-stateofcharge";
const T0 = Date.parse("2026-11-01T10:00:00Z");

/** The apply path takes a batch in one transaction (for group commit); the HTTP route sends batches of one. */
describe("applyDeliveries with a batch", () => {
  let t: TestApp;
  let published: Change[];
  const incoming = (payload: Record<string, unknown>): IncomingDelivery => ({
    delivery: normalizeDelivery(payload) as DataDelivery,
    rawBody: Buffer.from(JSON.stringify(payload)),
    receivedAt: new Date(),
  });
  const apply = (batch: IncomingDelivery[]) =>
    t.app.dataSource.transaction((manager) =>
      applyDeliveries(manager, batch, {
        applyTestDeliveries: false,
        publisher: { publish: async (_manager, events) => void published.push(...events) },
      }),
    );

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(() => {
    published = [];
  });

  it("applies a batch in arrival order, answering a repeated event as a duplicate", async () => {
    const vehicleId = randomUUID();
    const first = vehicleState({ vehicleId, signals: [{ code: SOC, body: { value: 10 }, oemUpdatedAt: T0 }] });
    const newer = vehicleState({ vehicleId, signals: [{ code: SOC, body: { value: 20 }, oemUpdatedAt: T0 + 2000 }] });
    const older = vehicleState({ vehicleId, signals: [{ code: SOC, body: { value: 15 }, oemUpdatedAt: T0 + 1000 }] });
    const outcomes = await apply([incoming(first), incoming(newer), incoming(first), incoming(older)]);

    expect(outcomes.map((o) => o.status)).toEqual(["applied", "applied", "duplicate", "applied"]);
    const history = await t.app.dataSource.query("SELECT value, late FROM signal_readings WHERE vehicle_id = $1 ORDER BY id", [vehicleId]);
    expect(history).toEqual([
      { value: 10, late: false },
      { value: 20, late: false },
      { value: 15, late: true },
    ]);
    const [latest] = await t.app.dataSource.query("SELECT value FROM signals WHERE vehicle_id = $1", [vehicleId]);
    expect(latest.value).toBe(20);
    // Both values that became latest are announced, in order; the late one is not.
    expect(published.filter((e) => e.kind === "signal").length).toBe(2);
  });

  it("logs every change of an issue reported several times in one batch", async () => {
    const vehicleId = randomUUID();
    const report = (state: "ERROR" | "RESOLVED", at: number) =>
      incoming(vehicleError({ vehicleId, deliveredAt: at, errors: [{ type: "VEHICLE_STATE", code: "ASLEEP", state }] }));
    await apply([report("ERROR", T0), report("RESOLVED", T0 + 1000), report("ERROR", T0 + 2000)]);

    const changes = await t.app.dataSource.query(
      "SELECT e.change FROM vehicle_issue_changes e JOIN vehicle_issues i ON i.id = e.issue_id WHERE i.vehicle_id = $1 ORDER BY e.id",
      [vehicleId],
    );
    expect(changes.map((row: { change: string }) => row.change)).toEqual(["OPENED", "RESOLVED", "REOPENED"]);
    expect(published.map((e) => (e.kind === "issue" ? e.state : e.kind))).toEqual(["OPEN", "RESOLVED", "OPEN"]);
  });

  it("leaves no trace when the surrounding transaction rolls back", async () => {
    const vehicleId = randomUUID();
    const delivery = incoming(vehicleState({ vehicleId, signals: [{ code: SOC, body: { value: 1 } }] }));
    await expect(
      t.app.dataSource.transaction(async (manager) => {
        await applyDeliveries(manager, [delivery], { applyTestDeliveries: false, publisher: { publish: async () => {} } });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await t.app.dataSource.query("SELECT 1 FROM webhook_events WHERE event_id = $1", [delivery.delivery.envelope.eventId])).toEqual([]);
  });
});
