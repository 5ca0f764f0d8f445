import { startTestApp, type TestApp } from "../../helpers/test-app";

describe("a started app", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ JWT_SECRET: undefined });
  });

  it("answers liveness and readiness", async () => {
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  it("answers GraphQL over HTTP", async () => {
    const response = await fetch(`${t.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: "Query" } });
  });

  it("has migrated its database, with every table and named index", async () => {
    const tables = await t.app.dataSource.query<Array<{ tablename: string }>>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    expect(tables.map((row) => row.tablename)).toEqual(
      expect.arrayContaining([
        "migrations",
        "signal_errors",
        "signal_readings",
        "signals",
        "vehicle_issues",
        "vehicles",
        "webhook_events",
        "webhook_rejections",
      ]),
    );
    const indexes = await t.app.dataSource.query<Array<{ indexname: string }>>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'",
    );
    expect(indexes.map((row) => row.indexname)).toEqual(
      expect.arrayContaining([
        "signal_readings_vehicle_code_observed_idx",
        "vehicle_issues_vehicle_state_idx",
        "vehicles_user_id_idx",
        "webhook_events_event_id_uidx",
      ]),
    );
    const columnTypes = await t.app.dataSource.query<Array<{ data_type: string }>>(
      "SELECT DISTINCT data_type FROM information_schema.columns WHERE table_schema = 'public' AND column_name LIKE '%_at'",
    );
    expect(columnTypes.map((row) => row.data_type)).toEqual(["timestamp with time zone"]);
  });

  it("reports not ready once its database is gone", async () => {
    const other = await startTestApp({ JWT_SECRET: undefined });
    await other.app.dataSource.destroy();
    const ready = await fetch(`${other.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${other.url}/healthz`)).status).toBe(200);
  });
});
