import path from "node:path";

/** The service's whole configuration, read once from the environment (see README, "Configuration"). */
export interface Config {
  readonly nodeEnv: string;
  readonly production: boolean;
  /** PostgreSQL connection string; undefined means the embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /**
   * Connections in the pool; undefined: 10 for a server, 1 for the embedded PGlite (one session, whose
   * socket server interleaves the messages of concurrent connections). Set 1 for any PGlite socket.
   */
  readonly databasePoolSize: number | undefined;
  /**
   * Connections of ingestion alone (deliveries, the spool's drain, the change bus), apart from the
   * pool of reads, so that no reader can make a delivery wait for one. @default 3
   */
  readonly databaseIngestPoolSize: number;
  /** PostgreSQL cancels a GraphQL statement running longer than this (answered QUERY_TIMEOUT), ms; 0: never. @default 5000 */
  readonly graphqlStatementTimeoutMs: number;
  /**
   * GraphQL operations one token (or one client IP without a token) may have running at once, over HTTP
   * and WebSocket together; more wait their turn, up to as many again, beyond that RATE_LIMITED; 0 turns it off. @default 4
   */
  readonly graphqlConcurrencyPerToken: number;
  /**
   * GraphQL operations of every caller running at once while the process has time to spare; while its
   * event loop is busy, fewer (down to one), so that readers never take it from ingestion; 0: no bound.
   * @default DATABASE_POOL_SIZE (4 on a one-session database)
   */
  readonly graphqlMaxConcurrent: number | undefined;
  readonly port: number;
  readonly host: string;
  /** Smartcar Application Management Tokens; the first answers VERIFY, any one signs deliveries. */
  readonly managementTokens: readonly string[];
  /** HS256 key of API bearer tokens; undefined leaves the API open (never in production). */
  readonly jwtSecret: string | undefined;
  readonly applyTestDeliveries: boolean;
  readonly logLevel: string;
  /** Largest accepted webhook body in bytes. @default 1 MiB */
  readonly webhookBodyLimit: number;
  /** Run pending migrations at start. @default true */
  readonly migrateOnStart: boolean;
  /** Subscriptions one WebSocket may have open at once. @default 100 */
  readonly wsMaxSubscriptionsPerSocket: number;
  /** Most changes one `since` replay sends before answering REPLAY_TOO_LONG. @default 1000 */
  readonly wsMaxReplayRows: number;
  /** Folder of the durable spool for deliveries that cannot reach the database; undefined: no spool (503). */
  readonly spoolDir: string | undefined;
  /** Client-side bound on getting a database connection (TCP and startup), ms. @default 5000 */
  readonly databaseConnectTimeoutMs: number;
  /** Client-side bound on any one query, ms; a connection whose query timed out is discarded. @default 10000 */
  readonly databaseQueryTimeoutMs: number;
  /** Bound on applying one webhook delivery, past which it is spooled or answered 503, ms. @default 8000 */
  readonly webhookApplyTimeoutMs: number;
  /** Group commit: most webhook deliveries applied in one transaction. @default 50 */
  readonly webhookBatchSize: number;
  /** Group commit: most webhook deliveries waiting for a transaction; more are answered 503 (or spooled). @default 1000 */
  readonly webhookQueueLimit: number;
  /** Group commit: transactions applying webhook deliveries at once (at most the pool size less one). @default 1 */
  readonly webhookBatchesInFlight: number;
  /** HTTP: time to receive a request's headers, ms. @default 10000 */
  readonly httpHeadersTimeoutMs: number;
  /** HTTP: time to receive a whole request, body included, ms. @default 20000 */
  readonly httpRequestTimeoutMs: number;
  /** HTTP: how long an idle keep-alive connection stays open, ms. @default 5000 */
  readonly httpKeepAliveTimeoutMs: number;
  /** HTTP: most concurrent connections (WebSockets included); more are closed at once. @default 2000 */
  readonly httpMaxConnections: number;
  /** GraphQL over HTTP: requests a minute per token (JWT `sub`, or admin subject); 0 turns it off. @default 1200 */
  readonly graphqlRateLimit: number;
  /** GraphQL over HTTP: requests a minute per client IP; 0 turns it off. @default 6000 */
  readonly graphqlIpRateLimit: number;
  /** Serve the live fleet page at GET /fleet. @default true, false in production */
  readonly fleetPage: boolean;
  /** Bearer token GET /metrics requires; undefined leaves it open. */
  readonly metricsToken: string | undefined;
  /** Days signal_readings are kept at least (by applied_at; whole month partitions go); undefined keeps them forever. */
  readonly historyRetentionDays: number | undefined;
  /** Days webhook_events and webhook_rejections are kept (at least 7: retries must stay duplicates); undefined: forever. */
  readonly rawEventRetentionDays: number | undefined;
  /** A vehicle silent for this many times its usual delivery interval gets a NO_DATA issue; 0 turns it off. @default 3 */
  readonly silentVehicleFactor: number;
  /** The usual delivery interval is taken as at least this, seconds. @default 900 */
  readonly silentVehicleMinIntervalS: number;
  /** How often one instance looks for silent vehicles, seconds. @default 60 */
  readonly silentVehicleCheckIntervalS: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Parses and validates the environment. Throws a ConfigError naming every bad variable;
 * the message never contains a variable's value, so a mistyped secret cannot leak into logs.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  /** A number of seconds that may have a fraction (sub-second checks, in tests and demos). */
  const seconds = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be a number of seconds from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (["true", "1", "yes"].includes(raw)) return true;
    if (["false", "0", "no"].includes(raw)) return false;
    problems.push(`${name} must be true or false`);
    return fallback;
  };

  const nodeEnv = text("NODE_ENV") ?? "development";
  const production = nodeEnv === "production";

  const databaseUrl = text("DATABASE_URL");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL must be a postgres:// or postgresql:// connection string");
  }

  const managementTokens = (text("SMARTCAR_MANAGEMENT_TOKEN") ?? "")
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token !== "");
  const jwtSecret = text("JWT_SECRET");
  if (production && managementTokens.length === 0) {
    problems.push("SMARTCAR_MANAGEMENT_TOKEN is required when NODE_ENV=production");
  }
  if (production && jwtSecret === undefined) {
    problems.push("JWT_SECRET is required when NODE_ENV=production");
  }
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < 32) {
    // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
    problems.push("JWT_SECRET must be at least 32 bytes long");
  }

  const logLevel = text("LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);

  const spoolDir = text("SPOOL_DIR");
  const config: Config = {
    nodeEnv,
    production,
    databaseUrl,
    dataDir: path.resolve(text("DATA_DIR") ?? ".fleetgraph"),
    databasePoolSize: text("DATABASE_POOL_SIZE") === undefined ? undefined : integer("DATABASE_POOL_SIZE", 10, 1, 1000),
    databaseIngestPoolSize: integer("DATABASE_INGEST_POOL_SIZE", 3, 2, 100),
    graphqlStatementTimeoutMs: integer("GRAPHQL_STATEMENT_TIMEOUT_MS", 5_000, 0, 3_600_000),
    graphqlConcurrencyPerToken: integer("GRAPHQL_CONCURRENCY_PER_TOKEN", 4, 0, 10_000),
    graphqlMaxConcurrent: text("GRAPHQL_MAX_CONCURRENT") === undefined ? undefined : integer("GRAPHQL_MAX_CONCURRENT", 0, 0, 100_000),
    port: integer("PORT", 4000, 0, 65535),
    host: text("HOST") ?? "0.0.0.0",
    managementTokens,
    jwtSecret,
    applyTestDeliveries: boolean("SMARTCAR_APPLY_TEST_DELIVERIES", false),
    logLevel,
    webhookBodyLimit: integer("WEBHOOK_BODY_LIMIT", 1024 * 1024, 1024, 50 * 1024 * 1024),
    migrateOnStart: boolean("MIGRATE_ON_START", true),
    wsMaxSubscriptionsPerSocket: integer("WS_MAX_SUBSCRIPTIONS_PER_SOCKET", 100, 1, 10_000),
    wsMaxReplayRows: integer("WS_MAX_REPLAY_ROWS", 1_000, 1, 100_000),
    spoolDir: spoolDir === undefined ? undefined : path.resolve(spoolDir),
    databaseConnectTimeoutMs: integer("DATABASE_CONNECT_TIMEOUT_MS", 5_000, 100, 60_000),
    databaseQueryTimeoutMs: integer("DATABASE_QUERY_TIMEOUT_MS", 10_000, 100, 3_600_000),
    // Smartcar stops listening after 15 s: the answer (503 or 202) must come before.
    webhookApplyTimeoutMs: integer("WEBHOOK_APPLY_TIMEOUT_MS", 8_000, 100, 14_000),
    webhookBatchSize: integer("WEBHOOK_BATCH_SIZE", 50, 1, 1000),
    webhookQueueLimit: integer("WEBHOOK_QUEUE_LIMIT", 1000, 1, 100_000),
    webhookBatchesInFlight: integer("WEBHOOK_BATCHES_IN_FLIGHT", 1, 1, 100),
    httpHeadersTimeoutMs: integer("HTTP_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000),
    httpRequestTimeoutMs: integer("HTTP_REQUEST_TIMEOUT_MS", 20_000, 100, 600_000),
    httpKeepAliveTimeoutMs: integer("HTTP_KEEP_ALIVE_TIMEOUT_MS", 5_000, 100, 600_000),
    httpMaxConnections: integer("HTTP_MAX_CONNECTIONS", 2_000, 1, 1_000_000),
    graphqlRateLimit: integer("GRAPHQL_RATE_LIMIT", 1200, 0, 1_000_000),
    graphqlIpRateLimit: integer("GRAPHQL_IP_RATE_LIMIT", 6000, 0, 1_000_000),
    // A page for people trying the API; a production deployment opts in.
    fleetPage: boolean("FLEET_PAGE", !production),
    metricsToken: text("METRICS_TOKEN"),
    historyRetentionDays: text("HISTORY_RETENTION_DAYS") === undefined ? undefined : integer("HISTORY_RETENTION_DAYS", 0, 1, 36_500),
    // A purged event is no longer recognised: a Smartcar retry of it would be applied again.
    rawEventRetentionDays: text("RAW_EVENT_RETENTION_DAYS") === undefined ? undefined : integer("RAW_EVENT_RETENTION_DAYS", 0, 7, 36_500),
    silentVehicleFactor: integer("SILENT_VEHICLE_FACTOR", 3, 0, 1000),
    silentVehicleMinIntervalS: seconds("SILENT_VEHICLE_MIN_INTERVAL_S", 900, 0.1, 30 * 24 * 3600),
    silentVehicleCheckIntervalS: seconds("SILENT_VEHICLE_CHECK_INTERVAL_S", 60, 0.1, 24 * 3600),
  };
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    // Node refuses a headers timeout longer than the whole request's.
    problems.push("HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS");
  }

  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
  return Object.freeze(config);
}
