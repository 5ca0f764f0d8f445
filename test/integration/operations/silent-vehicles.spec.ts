import { randomUUID } from "node:crypto";
import type { EntityManager } from "typeorm";
import { applyDeliveries } from "../../../src/webhooks/apply-deliveries";
import { normalizeDelivery } from "../../../src/webhooks/normalize";
import type { DataDelivery } from "../../../src/webhooks/normalized-delivery";
import { gqlData } from "../../helpers/graphql";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";
import { describeOnPostgres } from "../../helpers/test-database";
import { connectLive, signToken, type LiveClient } from "../../helpers/ws-client";

const ISSUE_UPDATED = `subscription ($vehicleId: ID) {
  vehicleIssueUpdated(vehicleId: $vehicleId) { id vehicleId type code state description resolvedAt }
}`;

interface IssueEvent {
  vehicleIssueUpdated: { id: string; vehicleId: string; type: string; code: string | null; state: string; description: string | null };
}

describe("silent vehicles get a NO_DATA issue", () => {
  let t: TestApp;
  let live: LiveClient;

  beforeAll(async () => {
    // Silent past 2 x max(usual interval, 0.5 s), looked for every 0.2 s.
    t = await startTestApp({ SILENT_VEHICLE_FACTOR: "2", SILENT_VEHICLE_MIN_INTERVAL_S: "0.5", SILENT_VEHICLE_CHECK_INTERVAL_S: "0.2" });
    live = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
  });

  const post = async (vehicleId: string) =>
    expect(await postDelivery(t.url, vehicleState({ vehicleId, userId: "user-silent", signals: [{ code: "closure-islocked", body: { value: true } }] })))
      .toMatchObject({ status: 200, body: { status: "applied" } });

  it("opens it once when the vehicle falls silent, pushes it, and its next delivery resolves it", async () => {
    const vehicleId = randomUUID();
    const updates = await live.subscribe<IssueEvent>(ISSUE_UPDATED, { vehicleId });
    await post(vehicleId);
    await post(vehicleId);

    const opened = (await updates.next(30_000)).vehicleIssueUpdated;
    expect(opened).toMatchObject({ vehicleId, type: "NO_DATA", code: "SILENT", state: "OPEN" });
    expect(opened.description).toMatch(/^No delivery for \d+ min; this vehicle usually sends one every \d+ min\.$/);

    // Later rounds (five of them) leave an open one alone.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(updates.pending).toBe(0);

    await post(vehicleId);
    expect((await updates.next(30_000)).vehicleIssueUpdated).toMatchObject({ id: opened.id, type: "NO_DATA", state: "RESOLVED" });

    const data = await gqlData<{ vehicle: { issues: Array<{ type: string; code: string | null; state: string }> } }>(
      t.url,
      `query ($id: ID!) { vehicle(id: $id) { issues { type code state } } }`,
      { token: await signToken({ role: "admin" }), variables: { id: vehicleId } },
    );
    expect(data.vehicle.issues).toEqual([{ type: "NO_DATA", code: "SILENT", state: "RESOLVED" }]);
  });
});

describeOnPostgres("silent vehicles with two instances on one database", "PGlite serves one process", () => {
  // Both look every 0.1 s for vehicles silent past 2 x 0.25 s: their checks overlap again and again.
  const FAST = { SILENT_VEHICLE_FACTOR: "2", SILENT_VEHICLE_MIN_INTERVAL_S: "0.25", SILENT_VEHICLE_CHECK_INTERVAL_S: "0.1" };
  let first: TestApp;
  let second: TestApp;
  let live: LiveClient;

  beforeAll(async () => {
    [first, second] = await Promise.all([startTestApp(FAST), startTestApp(FAST)]);
    live = connectLive(second.wsUrl, { token: await signToken({ role: "admin" }) });
  });

  it("opens exactly one NO_DATA issue per silent vehicle and pushes one change each", async () => {
    const vehicleIds = Array.from({ length: 40 }, () => randomUUID());
    const [watched] = vehicleIds;
    const updates = await live.subscribe<IssueEvent>(ISSUE_UPDATED, { vehicleId: watched });
    // Posted to both instances; each check round then finds many silent vehicles at once.
    await Promise.all(
      vehicleIds.map(async (vehicleId, n) => {
        const payload = vehicleState({ vehicleId, userId: "user-silent", signals: [{ code: "closure-islocked", body: { value: true } }] });
        expect((await postDelivery((n % 2 ? first : second).url, payload)).body).toMatchObject({ status: "applied" });
      }),
    );

    expect((await updates.next(10_000)).vehicleIssueUpdated).toMatchObject({ vehicleId: watched, type: "NO_DATA", state: "OPEN" });
    // Many more rounds of both instances.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(updates.pending).toBe(0);
    const counts = await first.app.dataSource.query(
      `SELECT (SELECT count(*)::int FROM vehicle_issues WHERE vehicle_id = ANY($1)) AS issues,
              (SELECT count(*)::int FROM vehicle_issues WHERE vehicle_id = ANY($1) AND state = 'OPEN' AND occurrences = 1) AS "openOnce",
              (SELECT count(*)::int FROM vehicle_issue_changes WHERE vehicle_id = ANY($1)) AS changes`,
      [vehicleIds],
    );
    expect(counts).toEqual([{ issues: 40, openOnce: 40, changes: 40 }]);
  });
});

describe("silent vehicles off (SILENT_VEHICLE_FACTOR=0)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SILENT_VEHICLE_FACTOR: "0" });
  });

  /** The statements applying one delivery runs, with the check on or off. */
  async function statementsApplying(silentVehicleCheck: boolean): Promise<string[]> {
    const payload = vehicleState({ vehicleId: randomUUID(), signals: [{ code: "closure-islocked", body: { value: true } }] });
    const statements: string[] = [];
    await t.app.dataSource.transaction(async (manager) => {
      const recording = new Proxy(manager, {
        get: (target, key, receiver) =>
          key === "query"
            ? (sql: string, parameters?: unknown[]) => {
                statements.push(sql);
                return target.query(sql, parameters);
              }
            : Reflect.get(target, key, receiver),
      }) as EntityManager;
      const delivery = { delivery: normalizeDelivery(payload) as DataDelivery, rawBody: Buffer.from(JSON.stringify(payload)), receivedAt: new Date() };
      await applyDeliveries(recording, [delivery], { applyTestDeliveries: false, publisher: { publish: async () => undefined }, silentVehicleCheck });
    });
    return statements;
  }

  it("costs ingestion nothing: no look for NO_DATA issues to resolve", async () => {
    const readsIssues = (statements: string[]) => statements.some((sql) => /vehicle_issues/.test(sql));
    expect(readsIssues(await statementsApplying(true))).toBe(true);
    expect(readsIssues(await statementsApplying(false))).toBe(false);
  });
});
