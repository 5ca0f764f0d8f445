import path from "node:path";
import { ConfigError, loadConfig } from "../../src/config";

describe("loadConfig", () => {
  it("applies the contract's defaults to an empty environment", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      dataDir: path.resolve(".fleetgraph"),
      port: 4000,
      host: "0.0.0.0",
      managementTokens: [],
      jwtSecret: undefined,
      applyTestDeliveries: false,
      logLevel: "info",
      webhookBodyLimit: 1024 * 1024,
      production: false,
    });
  });

  it("serves the fleet page by default in development only", () => {
    expect(loadConfig({}).fleetPage).toBe(true);
    const production = { NODE_ENV: "production", SMARTCAR_MANAGEMENT_TOKEN: "amt", JWT_SECRET: "x".repeat(32) };
    expect(loadConfig(production).fleetPage).toBe(false);
    expect(loadConfig({ ...production, FLEET_PAGE: "true" }).fleetPage).toBe(true);
    expect(loadConfig({ FLEET_PAGE: "false" }).fleetPage).toBe(false);
    expect(() => loadConfig({ FLEET_PAGE: "sometimes" })).toThrow(/FLEET_PAGE must be true or false/);
  });

  it("splits a comma-separated management token list for rotation", () => {
    expect(loadConfig({ SMARTCAR_MANAGEMENT_TOKEN: " new-token , old-token ," }).managementTokens).toEqual([
      "new-token",
      "old-token",
    ]);
  });

  it("names every bad variable in one error", () => {
    const load = () => loadConfig({ PORT: "eighty", LOG_LEVEL: "loud", SMARTCAR_APPLY_TEST_DELIVERIES: "maybe" });
    expect(load).toThrow(/PORT must be an integer/);
    expect(load).toThrow(/SMARTCAR_APPLY_TEST_DELIVERIES must be true or false/);
    expect(load).toThrow(/LOG_LEVEL must be one of/);
  });

  it("refuses to start in production without its secrets", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/SMARTCAR_MANAGEMENT_TOKEN is required[\s\S]*JWT_SECRET is required/);
    expect(
      loadConfig({ NODE_ENV: "production", SMARTCAR_MANAGEMENT_TOKEN: "amt", JWT_SECRET: "x".repeat(32) }).production,
    ).toBe(true);
  });

  it("never prints a secret's value in its error", () => {
    const secret = "short-secret-value";
    let message = "";
    try {
      loadConfig({ JWT_SECRET: secret, DATABASE_URL: "mysql://user:hunter2@db/x" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/JWT_SECRET must be at least 32 bytes/);
    expect(message).toMatch(/DATABASE_URL must be a postgres/);
    expect(message).not.toContain(secret);
    expect(message).not.toContain("hunter2");
  });
});

describe("loadConfig: outage and time bounds", () => {
  it("bounds every wait by default, and has no spool unless SPOOL_DIR is set", () => {
    expect(loadConfig({})).toMatchObject({
      spoolDir: undefined,
      databaseConnectTimeoutMs: 5_000,
      databaseQueryTimeoutMs: 10_000,
      webhookApplyTimeoutMs: 8_000,
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 20_000,
      httpKeepAliveTimeoutMs: 5_000,
      httpMaxConnections: 2_000,
    });
    expect(loadConfig({ SPOOL_DIR: "spool" }).spoolDir).toBe(path.resolve("spool"));
  });

  it("refuses an apply timeout Smartcar would not wait for, and a headers timeout longer than the request's", () => {
    expect(() => loadConfig({ WEBHOOK_APPLY_TIMEOUT_MS: "15000" })).toThrow(/WEBHOOK_APPLY_TIMEOUT_MS must be an integer from 100 to 14000/);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: "30000", HTTP_REQUEST_TIMEOUT_MS: "20000" })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS/,
    );
  });
});

describe("loadConfig: GraphQL rate limits", () => {
  it("defaults to generous limits, takes 0 to turn one off, and names a bad value's variable", () => {
    expect(loadConfig({})).toMatchObject({ graphqlRateLimit: 1200, graphqlIpRateLimit: 6000 });
    expect(loadConfig({ GRAPHQL_RATE_LIMIT: "0", GRAPHQL_IP_RATE_LIMIT: "30" })).toMatchObject({ graphqlRateLimit: 0, graphqlIpRateLimit: 30 });
    const load = () => loadConfig({ GRAPHQL_RATE_LIMIT: "-1", GRAPHQL_IP_RATE_LIMIT: "lots" });
    expect(load).toThrow(/GRAPHQL_RATE_LIMIT must be an integer/);
    expect(load).toThrow(/GRAPHQL_IP_RATE_LIMIT must be an integer/);
    expect(load).not.toThrow(/lots/);
  });

  it("sizes the pool by the database unless DATABASE_POOL_SIZE says, and bounds group commit", () => {
    const defaults = loadConfig({});
    expect(defaults.databasePoolSize).toBeUndefined();
    expect([defaults.webhookBatchSize, defaults.webhookQueueLimit, defaults.webhookBatchesInFlight]).toEqual([50, 1000, 1]);
    expect(loadConfig({ DATABASE_POOL_SIZE: "1", WEBHOOK_BATCH_SIZE: "1", WEBHOOK_QUEUE_LIMIT: "5", WEBHOOK_BATCHES_IN_FLIGHT: "2" })).toMatchObject({
      databasePoolSize: 1,
      webhookBatchSize: 1,
      webhookQueueLimit: 5,
      webhookBatchesInFlight: 2,
    });
    expect(() => loadConfig({ DATABASE_POOL_SIZE: "0" })).toThrow(/DATABASE_POOL_SIZE must be an integer from 1 to 1000/);
    expect(() => loadConfig({ WEBHOOK_BATCH_SIZE: "lots" })).toThrow(/WEBHOOK_BATCH_SIZE must be an integer/);
    expect(() => loadConfig({ WEBHOOK_QUEUE_LIMIT: "-1" })).toThrow(/WEBHOOK_QUEUE_LIMIT must be an integer/);
    expect(() => loadConfig({ WEBHOOK_BATCHES_IN_FLIGHT: "0" })).toThrow(/WEBHOOK_BATCHES_IN_FLIGHT must be an integer/);
  });

  it("takes the silent-vehicle intervals in seconds, fractions allowed", () => {
    expect(loadConfig({ SILENT_VEHICLE_MIN_INTERVAL_S: "0.25", SILENT_VEHICLE_CHECK_INTERVAL_S: "1.5" })).toMatchObject({
      silentVehicleMinIntervalS: 0.25,
      silentVehicleCheckIntervalS: 1.5,
    });
    expect(loadConfig({})).toMatchObject({ silentVehicleMinIntervalS: 900, silentVehicleCheckIntervalS: 60 });
    expect(() => loadConfig({ SILENT_VEHICLE_CHECK_INTERVAL_S: "0.01" })).toThrow(/SILENT_VEHICLE_CHECK_INTERVAL_S must be a number of seconds from 0.1/);
    expect(() => loadConfig({ SILENT_VEHICLE_MIN_INTERVAL_S: "1e3" })).toThrow(/SILENT_VEHICLE_MIN_INTERVAL_S must be a number of seconds/);
  });
});
