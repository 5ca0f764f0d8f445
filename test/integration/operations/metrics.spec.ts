import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gql, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTcpProxy } from "../../helpers/tcp-proxy";
import { startTestApp, testDatabase, type TestApp } from "../../helpers/test-app";
import { connectLive } from "../../helpers/ws-client";

const SOC = "tractionbattery-stateofcharge";
const soc = (value: number) => ({ code: SOC, body: { unit: "percent", value }, oemUpdatedAt: Date.parse("2026-11-01T10:00:00Z") });

/** The value of one sample of `name` with exactly these labels in Prometheus text; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(",");
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? "").split(/,(?=[a-zA-Z_]+=")/).filter(Boolean).sort().join(",");
    if (have === wanted) return Number(match[3]);
  }
  return undefined;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${url}/metrics`, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

const deliveries = (text: string, eventType: string, outcome: string) =>
  sample(text, "fleetgraph_webhook_deliveries_total", { event_type: eventType, outcome });

describe("GET /metrics", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  it("counts webhook deliveries by event type and outcome, signature failures and apply latency", async () => {
    const state = vehicleState({ vehicleId: randomUUID(), signals: [soc(50)] });
    expect((await postDelivery(t.url, state)).body).toMatchObject({ status: "applied" });
    expect((await postDelivery(t.url, state)).body).toMatchObject({ status: "duplicate" });
    const test = vehicleState({ vehicleId: randomUUID(), mode: "TEST", signals: [soc(51)] });
    expect((await postDelivery(t.url, test)).body).toMatchObject({ status: "test" });
    // Signed, but not a delivery: kept raw and answered 422.
    expect((await postDelivery(t.url, { eventType: "VEHICLE_STATE", data: {} })).status).toBe(422);
    // A client's own event type is not a label: counted as unknown.
    expect((await postDelivery(t.url, { eventId: randomUUID(), eventType: `X-${randomUUID()}`, data: {} })).status).toBe(422);
    expect((await postDelivery(t.url, state, { signature: "0".repeat(64) })).status).toBe(401);
    expect((await postDelivery(t.url, state, { token: null })).status).toBe(401);

    const text = await scrape(t.url);
    expect(deliveries(text, "VEHICLE_STATE", "applied")).toBe(1);
    expect(deliveries(text, "VEHICLE_STATE", "duplicate")).toBe(1);
    expect(deliveries(text, "VEHICLE_STATE", "test")).toBe(1);
    expect(deliveries(text, "VEHICLE_STATE", "rejected")).toBe(1);
    expect(deliveries(text, "unknown", "rejected")).toBe(1);
    expect(text).not.toContain("X-");
    expect(sample(text, "fleetgraph_webhook_signature_failures_total")).toBe(2);
    expect(sample(text, "fleetgraph_webhook_apply_duration_seconds_count")).toBe(3);
    expect(sample(text, "fleetgraph_webhook_apply_batch_size_count")).toBe(3);
    expect(sample(text, "fleetgraph_webhook_apply_batch_size_sum")).toBe(3);
    // Read on scrape: no spool here; the pool is open; default process metrics carry the prefix.
    expect(sample(text, "fleetgraph_spool_depth")).toBe(0);
    const pools = t.database.embedded ? ["shared"] : ["primary", "ingest", "reads"];
    for (const pool of pools) expect(sample(text, "fleetgraph_database_pool_connections", { pool, state: "total" })).toBeGreaterThan(0);
    expect(sample(text, "fleetgraph_process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(sample(text, "fleetgraph_changes_published_total", { kind: "signal" })).toBe(1);
    for (const line of text.split("\n")) {
      if (line !== "" && !line.startsWith("#")) expect(line).toMatch(/^fleetgraph_/);
    }
  });

  it("counts a delivery answered 503 while the database is unreachable as unavailable", async () => {
    const proxy = await startTcpProxy((await testDatabase()).url);
    const app = await startTestApp({ DATABASE_URL: proxy.url });
    try {
      await proxy.cut();
      expect((await postDelivery(app.url, vehicleState({ vehicleId: randomUUID(), signals: [soc(1)] }))).status).toBe(503);
      const text = await scrape(app.url);
      expect(deliveries(text, "VEHICLE_STATE", "unavailable")).toBe(1);
      expect(deliveries(text, "VEHICLE_STATE", "applied")).toBeUndefined();
    } finally {
      await app.stop();
      await proxy.close();
    }
  });

  it("counts a delivery spooled while the database is unreachable, and the spool's depth", async () => {
    const proxy = await startTcpProxy((await testDatabase()).url);
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-metrics-spool-"));
    const app = await startTestApp({ DATABASE_URL: proxy.url, SPOOL_DIR: spoolDir });
    try {
      await proxy.cut();
      const spooled = await postDelivery(app.url, vehicleState({ vehicleId: randomUUID(), signals: [soc(2)] }));
      expect(spooled).toMatchObject({ status: 202, body: { status: "spooled" } });
      const text = await scrape(app.url);
      expect(deliveries(text, "VEHICLE_STATE", "spooled")).toBe(1);
      expect(sample(text, "fleetgraph_spool_depth")).toBe(1);
    } finally {
      await app.stop();
      await proxy.close();
      fs.rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it("counts GraphQL operations by name, with duration and errors; unknown names are bounded", async () => {
    const token = await signToken({ role: "admin" });
    expect((await gql(t.url, "query FleetOverview { __typename }", { token })).status).toBe(200);
    await gql(t.url, "query FleetOverview { __typename }", { token });
    await gql(t.url, "query Broken { noSuchField }", { token });
    await gql(t.url, "{ __typename }", { token });

    const text = await scrape(t.url);
    expect(sample(text, "fleetgraph_graphql_operations_total", { operation: "FleetOverview" })).toBe(2);
    expect(sample(text, "fleetgraph_graphql_operation_errors_total", { operation: "FleetOverview" })).toBeUndefined();
    expect(sample(text, "fleetgraph_graphql_operation_duration_seconds_count", { operation: "FleetOverview" })).toBe(2);
    // Invalid documents resolve no operation: their (client-chosen) name is not a label.
    expect(sample(text, "fleetgraph_graphql_operation_errors_total", { operation: "anonymous" })).toBe(1);
    expect(sample(text, "fleetgraph_graphql_operations_total", { operation: "anonymous" })).toBe(2);
    expect(text).not.toContain('operation="Broken"');
  });

  it("past 100 distinct operation names, new ones count as other", async () => {
    const app = await startTestApp();
    const token = await signToken({ role: "admin" });
    for (let i = 0; i < 105; i++) await gql(app.url, `query Op${i} { __typename }`, { token });
    const text = await scrape(app.url);
    expect(sample(text, "fleetgraph_graphql_operations_total", { operation: "Op99" })).toBe(1);
    expect(sample(text, "fleetgraph_graphql_operations_total", { operation: "Op100" })).toBeUndefined();
    expect(sample(text, "fleetgraph_graphql_operations_total", { operation: "other" })).toBe(5);
  });

  it("a subscription raises the open-subscriptions gauge, counts its events, and lowers the gauge when it ends", async () => {
    const before = await scrape(t.url);
    expect(sample(before, "fleetgraph_subscriptions_open")).toBe(0);
    const live = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
    const vehicleId = randomUUID();
    const subscription = await live.subscribe(`subscription ($vehicleId: ID) { signalUpdated(vehicleId: $vehicleId) { code value } }`, { vehicleId });
    const open = await scrape(t.url);
    expect(sample(open, "fleetgraph_subscriptions_open")).toBe(1);
    expect(sample(open, "fleetgraph_websocket_connections")).toBe(1);

    await postDelivery(t.url, vehicleState({ vehicleId, signals: [soc(77)] }));
    await subscription.next();
    expect(sample(await scrape(t.url), "fleetgraph_changes_delivered_total")).toBe(1);

    subscription.unsubscribe();
    await waitFor(async () => sample(await scrape(t.url), "fleetgraph_subscriptions_open") === 0);
    await live.dispose();
    await waitFor(async () => sample(await scrape(t.url), "fleetgraph_websocket_connections") === 0);
  });

  it("ends with its socket: the gauge falls when a client goes away without completing", async () => {
    const live = connectLive(t.wsUrl, { token: await signToken({ role: "admin" }) });
    await live.subscribe(`subscription { signalUpdated(vehicleId: "${randomUUID()}") { code } }`);
    expect(sample(await scrape(t.url), "fleetgraph_subscriptions_open")).toBe(1);
    live.client.terminate();
    await waitFor(async () => sample(await scrape(t.url), "fleetgraph_subscriptions_open") === 0);
  });

  it("counts published changes once their transaction commits: a batch retried after a failed commit counts once", async () => {
    const app = await startTestApp(); // metrics of its own
    const vehicleId = randomUUID();
    // The vehicle's first commit fails with a serialization failure (a deferred trigger, checked at COMMIT,
    // after the changes were published in the transaction); ingestion retries the batch, which commits.
    const ds = app.app.dataSource;
    await ds.query(`CREATE SEQUENCE fail_first_commit_seq`);
    await ds.query(
      `CREATE FUNCTION fail_first_commit() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.vehicle_id = '${vehicleId}' AND nextval('fail_first_commit_seq') = 1 THEN
           RAISE EXCEPTION 'first commit fails' USING ERRCODE = '40001';
         END IF;
         RETURN NULL;
       END $$`,
    );
    await ds.query(
      `CREATE CONSTRAINT TRIGGER fail_first_commit AFTER INSERT ON signals DEFERRABLE INITIALLY DEFERRED
         FOR EACH ROW EXECUTE FUNCTION fail_first_commit()`,
    );
    try {
      expect((await postDelivery(app.url, vehicleState({ vehicleId, signals: [soc(60)] }))).body).toMatchObject({ status: "applied" });
      const [{ attempts }] = await ds.query(`SELECT last_value AS attempts FROM fail_first_commit_seq`);
      expect(Number(attempts)).toBe(2);
      expect(sample(await scrape(app.url), "fleetgraph_changes_published_total", { kind: "signal" })).toBe(1);
    } finally {
      await ds.query(`DROP TRIGGER fail_first_commit ON signals`);
      await ds.query(`DROP FUNCTION fail_first_commit()`);
      await ds.query(`DROP SEQUENCE fail_first_commit_seq`);
    }
  });

  it("needs METRICS_TOKEN as a bearer token when it is set", async () => {
    const app = await startTestApp({ METRICS_TOKEN: "metrics-token-for-tests" });
    const refused = await fetch(`${app.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
    expect((await fetch(`${app.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect(await scrape(app.url, { authorization: "Bearer metrics-token-for-tests" })).toContain("fleetgraph_webhook_deliveries_total");
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
