import { randomUUID } from "node:crypto";
import { gqlData } from "../../helpers/graphql";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";
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
    // Silent past 2 x max(usual interval, 1 s), looked for every second.
    t = await startTestApp({ SILENT_VEHICLE_FACTOR: "2", SILENT_VEHICLE_MIN_INTERVAL_S: "1", SILENT_VEHICLE_CHECK_INTERVAL_S: "1" });
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

    // Later rounds leave an open one alone.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
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
