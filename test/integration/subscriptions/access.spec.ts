import { randomUUID } from "node:crypto";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";
import { connectLive, signToken } from "../../helpers/ws-client";

const SOC = "tractionbattery-stateofcharge";
const SIGNAL_UPDATED = `subscription ($vehicleId: ID, $since: DateTime) {
  signalUpdated(vehicleId: $vehicleId, since: $since) { vehicleId value }
}`;
const ISSUE_UPDATED = `subscription { vehicleIssueUpdated { vehicleId state } }`;

interface SignalEvent {
  signalUpdated: { vehicleId: string; value: number };
}
interface IssueEvent {
  vehicleIssueUpdated: { vehicleId: string; state: string };
}

describe("subscription access", () => {
  let t: TestApp;
  const post = async (payload: Record<string, unknown>) => expect((await postDelivery(t.url, payload)).status).toBe(200);
  const state = (vehicleId: string, userId: string, value: number) =>
    vehicleState({ vehicleId, userId, signals: [{ code: SOC, body: { value }, oemUpdatedAt: Date.now() }] });

  beforeAll(async () => {
    t = await startTestApp();
  });

  describe("connection_init", () => {
    it("closes with 4401 without a token", async () => {
      const live = connectLive(t.wsUrl, { token: null });
      expect(await live.closed).toMatchObject({ code: 4401 });
    });

    it("closes with 4401 for a token signed with another key", async () => {
      const live = connectLive(t.wsUrl, { token: await signToken({ sub: "u", secret: "another-secret-that-is-at-least-32-bytes" }) });
      expect(await live.closed).toMatchObject({ code: 4401 });
    });

    it("closes with 4401 for an expired token", async () => {
      const live = connectLive(t.wsUrl, { token: await signToken({ sub: "u", expiresIn: -10 }) });
      expect(await live.closed).toMatchObject({ code: 4401 });
    });

    it("closes with 4401 for a token not sent as a Bearer Authorization", async () => {
      const live = connectLive(t.wsUrl, { token: null, connectionParams: { token: await signToken({ sub: "u" }) } });
      expect(await live.closed).toMatchObject({ code: 4401 });
    });
  });

  it("closes the socket with 4401 when the token expires", async () => {
    const live = connectLive(t.wsUrl, { token: await signToken({ sub: "u", expiresIn: 2 }) });
    const subscription = await live.subscribe(SIGNAL_UPDATED);
    const started = Date.now();
    expect(await live.closed).toMatchObject({ code: 4401, reason: "Token expired" });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(subscription.history.filter((item) => item.kind === "next")).toEqual([]);
  });

  it("sends a user only the events of their own vehicles; an admin gets all", async () => {
    const mine = randomUUID();
    const theirs = randomUUID();
    const user = connectLive(t.wsUrl, { token: await signToken({ sub: "user-a" }) });
    const admin = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
    const userSignals = await user.subscribe<SignalEvent>(SIGNAL_UPDATED);
    const userTheirs = await user.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId: theirs });
    const userIssues = await user.subscribe<IssueEvent>(ISSUE_UPDATED);
    const adminSignals = await admin.subscribe<SignalEvent>(SIGNAL_UPDATED);

    await post(state(theirs, "user-b", 1));
    await post(vehicleError({ vehicleId: theirs, userId: "user-b", errors: [{ type: "COMPATIBILITY", code: null, state: "ERROR" }] }));
    await post(state(mine, "user-a", 2));
    await post(vehicleError({ vehicleId: mine, userId: "user-a", errors: [{ type: "COMPATIBILITY", code: null, state: "ERROR" }] }));

    expect((await userSignals.next()).signalUpdated).toEqual({ vehicleId: mine, value: 2 });
    expect((await userIssues.next()).vehicleIssueUpdated).toEqual({ vehicleId: mine, state: "OPEN" });
    expect((await adminSignals.take(2)).map((event) => event.signalUpdated.vehicleId)).toEqual([theirs, mine]);
    // Asking for another user's vehicle by id is no way around it: it looks like a vehicle with no events.
    await post(state(theirs, "user-b", 3));
    expect((await adminSignals.next()).signalUpdated).toEqual({ vehicleId: theirs, value: 3 });
    expect(userTheirs.pending).toBe(0);
  });

  it("replays to a user only the missed events of their own vehicles", async () => {
    const mine = randomUUID();
    const theirs = randomUUID();
    const since = new Date(Date.now() - 1);
    await post(state(theirs, "user-b", 10));
    await post(state(mine, "user-a", 11));

    const user = connectLive(t.wsUrl, { token: await signToken({ sub: "user-a" }) });
    const resumed = await user.subscribe<SignalEvent>(SIGNAL_UPDATED, { since: since.toISOString() });
    expect((await resumed.next()).signalUpdated).toEqual({ vehicleId: mine, value: 11 });
    await post(state(theirs, "user-b", 12));
    await post(state(mine, "user-a", 13));
    expect((await resumed.next()).signalUpdated).toEqual({ vehicleId: mine, value: 13 });
  });

  it("refuses a subscription over HTTP", async () => {
    const response = await fetch(`${t.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await signToken({ role: "admin" })}` },
      body: JSON.stringify({ query: "subscription { signalUpdated { code } }" }),
    });
    const body = (await response.json()) as { errors?: Array<{ message: string }> };
    expect(body.errors?.[0]?.message).toBeDefined();
  });

  it("refuses a subscription deeper than the HTTP limit, before it starts", async () => {
    const live = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
    const nested = Array.from({ length: 7 }).reduce<string>((inner) => `vehicle { issues { ${inner} } }`, "id");
    const subscription = await live.subscribe(`subscription { vehicleIssueUpdated { ${nested} } }`);
    const refused = await subscription.receive();
    expect(refused).toMatchObject({ kind: "error", errors: [{ extensions: { code: "QUERY_TOO_DEEP" } }] });
  });

  it("on stop, sends the events already committed, then closes the sockets with 1001", async () => {
    const other = await startTestApp();
    const vehicleId = randomUUID();
    const live = connectLive(other.wsUrl, { token: await signToken({ role: "admin" }) });
    const subscription = await live.subscribe<SignalEvent>(SIGNAL_UPDATED, { vehicleId });
    expect((await postDelivery(other.url, state(vehicleId, "user-a", 42))).status).toBe(200);
    await other.stop();

    expect(await live.closed).toMatchObject({ code: 1001 });
    expect(subscription.history[0]).toEqual({ kind: "next", data: { signalUpdated: { vehicleId, value: 42 } } });
  });
});
