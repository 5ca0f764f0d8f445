import { randomUUID } from "node:crypto";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { describeOnPostgres } from "../../helpers/test-database";
import { startTestApp, type TestApp } from "../../helpers/test-app";
import { connectLive, signToken, type LiveClient } from "../../helpers/ws-client";

const SOC = "tractionbattery-stateofcharge";
const SIGNAL_UPDATED = `subscription ($vehicleId: ID) { signalUpdated(vehicleId: $vehicleId) { vehicleId value } }`;
const ISSUE_UPDATED = `subscription ($vehicleId: ID) { vehicleIssueUpdated(vehicleId: $vehicleId) { vehicleId state } }`;

interface SignalEvent {
  signalUpdated: { vehicleId: string; value: number };
}

/** Several instances behind a load balancer share one PostgreSQL. */
describeOnPostgres("subscriptions across app instances on one database", "PGlite serves one process and forwards no NOTIFY", () => {
  let first: TestApp;
  let second: TestApp;
  let onFirst: LiveClient;
  const state = (vehicleId: string, value: number) => vehicleState({ vehicleId, signals: [{ code: SOC, body: { value }, oemUpdatedAt: Date.now() }] });
  const post = async (app: TestApp, payload: Record<string, unknown>) => expect((await postDelivery(app.url, payload)).status).toBe(200);

  beforeAll(async () => {
    first = await startTestApp();
    second = await startTestApp();
    onFirst = connectLive(first.wsUrl, { token: await signToken({ role: "admin" }) });
  });

  it("delivers a change applied by one instance to subscribers of the other", async () => {
    const vehicleId = randomUUID();
    const signals = await onFirst.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
    const issues = await onFirst.subscribe(ISSUE_UPDATED, { vehicleId });

    await post(second, state(vehicleId, 70));
    await post(second, vehicleError({ vehicleId, errors: [{ type: "PERMISSION", code: null, state: "ERROR" }] }));
    await post(first, state(vehicleId, 71));

    expect((await signals.take(2)).map((event) => event.signalUpdated.value)).toEqual([70, 71]);
    expect(await issues.next()).toEqual({ vehicleIssueUpdated: { vehicleId, state: "OPEN" } });
  });

  it("loses nothing when an instance's LISTEN connection drops: it reconnects and catches up", async () => {
    const vehicleId = randomUUID();
    const signals = await onFirst.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
    await post(second, state(vehicleId, 1));
    expect((await signals.next()).signalUpdated.value).toBe(1);

    // Kills both instances' listening sessions; changes committed meanwhile are not notified to anyone.
    const killed = await first.app.dataSource.query<Array<{ pg_terminate_backend: boolean }>>(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fleetgraph-listen' AND datname = current_database()",
    );
    expect(killed.length).toBe(2);
    await post(second, state(vehicleId, 2));
    await post(second, state(vehicleId, 3));

    expect((await signals.take(2)).map((event) => event.signalUpdated.value)).toEqual([2, 3]);
    await post(second, state(vehicleId, 4));
    expect((await signals.next()).signalUpdated.value).toBe(4);
  });
});
