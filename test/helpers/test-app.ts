import { createApp, type App } from "../../src/app";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { atScopeEnd, scopeId } from "./scope";
import { createTestDatabase, type TestDatabase } from "./test-database";

export const TEST_MANAGEMENT_TOKEN = "test-management-token";
export const TEST_JWT_SECRET = "test-jwt-secret-that-is-at-least-32-bytes";

export interface TestApp {
  readonly app: App;
  readonly url: string;
  readonly wsUrl: string;
  readonly database: TestDatabase;
  stop(): Promise<void>;
}

/** This scope's database (see ./scope), taken once; later calls share it (several instances). */
let database: { scope: number; created: Promise<TestDatabase> } | undefined;

/** A database of its own for the calling test file (or spec), in the template's state, taken once; later calls share it (several instances). */
export function testDatabase(): Promise<TestDatabase> {
  if (database?.scope !== scopeId()) {
    const created = createTestDatabase();
    database = { scope: scopeId(), created };
    atScopeEnd(async () => (await created).release(), { last: true }); // handed back after every app stopped
  }
  return database.created;
}

/**
 * Starts the real app on port 0 against this file's database, signed with TEST_MANAGEMENT_TOKEN and
 * protected by TEST_JWT_SECRET unless `env` overrides them; `options.logs` collects its log lines.
 * Stopped automatically after the file (or spec).
 */
export async function startTestApp(env: Record<string, string | undefined> = {}, options: { logs?: string[] } = {}): Promise<TestApp> {
  const database = await testDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN,
    JWT_SECRET: TEST_JWT_SECRET,
    // Off unless a test sets them: suites send many requests from one address with one token.
    GRAPHQL_RATE_LIMIT: "0",
    GRAPHQL_IP_RATE_LIMIT: "0",
    GRAPHQL_CONCURRENCY_PER_TOKEN: "0",
    GRAPHQL_MAX_CONCURRENT: "0",
    // An embedded test database is a PGlite socket: one connection, as the app's embedded default.
    DATABASE_POOL_SIZE: database.embedded ? "1" : undefined,
    ...env,
  });
  // With `logs`, every line the app logs at info and above is kept there, for the test to read.
  const { logs } = options;
  const logger = logs ? createLogger("info", { write: (line: string) => void logs.push(line) }) : createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
  const app = createApp(config, { logger });
  await app.start();
  const stop = () => app.stop();
  atScopeEnd(stop);
  return { app, url: app.url, wsUrl: `${app.url.replace(/^http/, "ws")}/graphql`, database, stop };
}
