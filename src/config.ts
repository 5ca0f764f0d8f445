import path from "node:path";

/** The service's whole configuration, read once from the environment (see README, "Configuration"). */
export interface Config {
  readonly nodeEnv: string;
  readonly production: boolean;
  /** PostgreSQL connection string; undefined means the embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
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
  /** GraphQL over HTTP: requests a minute per token (JWT `sub`, or admin subject); 0 turns it off. @default 1200 */
  readonly graphqlRateLimit: number;
  /** GraphQL over HTTP: requests a minute per client IP; 0 turns it off. @default 6000 */
  readonly graphqlIpRateLimit: number;
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

  const config: Config = {
    nodeEnv,
    production,
    databaseUrl,
    dataDir: path.resolve(text("DATA_DIR") ?? ".fleetgraph"),
    port: integer("PORT", 4000, 0, 65535),
    host: text("HOST") ?? "0.0.0.0",
    managementTokens,
    jwtSecret,
    applyTestDeliveries: boolean("SMARTCAR_APPLY_TEST_DELIVERIES", false),
    logLevel,
    webhookBodyLimit: integer("WEBHOOK_BODY_LIMIT", 1024 * 1024, 1024, 50 * 1024 * 1024),
    migrateOnStart: boolean("MIGRATE_ON_START", true),
    graphqlRateLimit: integer("GRAPHQL_RATE_LIMIT", 1200, 0, 1_000_000),
    graphqlIpRateLimit: integer("GRAPHQL_IP_RATE_LIMIT", 6000, 0, 1_000_000),
  };

  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
  return Object.freeze(config);
}
