import { createHash } from "node:crypto";
import path from "node:path";
import { Client, type Pool } from "pg";
import { DataSource, type DataSourceOptions } from "typeorm";
import { AfterCommitSubscriber } from "./after-commit";
import { SnakeNamingStrategy } from "./naming-strategy";

/** `migrations/` at the repository root, as .ts from source and .js from `dist/`. */
const MIGRATIONS_GLOB = path.join(__dirname, "..", "..", "migrations", `*.${__filename.endsWith(".ts") ? "ts" : "js"}`);

export interface DataSourceSettings {
  url: string;
  /** Pool size. @default 10 */
  poolSize?: number;
  /** The mapped classes (src/entities.ts); the migrations alone need none. */
  entities?: DataSourceOptions["entities"];
  /** Bound on opening a connection (TCP and PostgreSQL startup), ms. @default 5000 */
  connectTimeoutMs?: number;
  /** Client-side bound on any one query, ms: a partition that drops bytes gives no error otherwise. @default none */
  queryTimeoutMs?: number;
  /** PostgreSQL cancels a statement of this pool's sessions running longer than this, ms (`statement_timeout`). @default none */
  statementTimeoutMs?: number;
  /**
   * Whether readRows may name its statements, so each connection parses and plans them once. Not on the
   * embedded PGlite: its socket server maps every connection onto one session, so a statement prepared
   * by a connection the pool has since replaced is still there when the next one prepares it again.
   * @default false
   */
  namedStatements?: boolean;
}

/**
 * A pg client that closes its connection when a query times out client-side. The query may still be
 * running (or the network may still be silent), so the connection cannot serve another query: closing it
 * makes the pool discard it instead of handing it to the next caller, who would wait on it in turn.
 */
class DiscardOnTimeoutClient extends Client {
  override query(...args: unknown[]): never {
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (!(error instanceof Error) || error.message !== QUERY_READ_TIMEOUT) return;
        // end() marks the client as ending at once, so the pool drops it when it comes back; destroying
        // the socket does not wait for a goodbye that a silent network would never carry.
        this.end().catch(() => undefined);
        this.connection.stream.destroy();
      });
    }
    return result as never;
  }
}
/** pg's message for a `query_timeout`. */
const QUERY_READ_TIMEOUT = "Query read timeout";

export function dataSourceOptions({ url, poolSize = 10, entities = [], connectTimeoutMs = 5000, queryTimeoutMs, statementTimeoutMs }: DataSourceSettings): DataSourceOptions {
  return {
    type: "postgres",
    url,
    entities,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: "migrations",
    namingStrategy: new SnakeNamingStrategy(),
    // afterCommit(): work held until a transaction commits.
    subscribers: [AfterCommitSubscriber],
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install.
    uuidExtension: "pgcrypto",
    // One migration failing leaves the schema as it was.
    migrationsTransactionMode: "each",
    extra: {
      max: poolSize,
      // Fail fast when the database is unreachable, so webhook callers get a 503 well within Smartcar's 15 s.
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: queryTimeoutMs,
      // Sent at connection start-up: every statement of the session is bounded, with no round trip of its own.
      ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
      Client: DiscardOnTimeoutClient,
      // Lets the kernel notice a peer that vanished while a connection sat idle.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: "fleetgraph",
    },
  };
}

/** The data sources whose readRows name their statements (see DataSourceSettings.namedStatements). */
const naming = new WeakSet<DataSource>();

export function createDataSource(settings: DataSourceSettings): DataSource {
  const dataSource = new DataSource(dataSourceOptions(settings));
  if (settings.namedStatements) naming.add(dataSource);
  return dataSource;
}

/**
 * Statement names by text. The hot reads' texts are few (a shape per selection of columns and scope);
 * past this many, further texts go unnamed rather than keep a plan in every connection forever.
 */
const MAX_NAMED = 200;
const names = new Map<string, string>();

function nameOf(sql: string): string | undefined {
  let name = names.get(sql);
  if (name === undefined && names.size < MAX_NAMED) names.set(sql, (name = `fg_${createHash("sha256").update(sql).digest("hex").slice(0, 32)}`));
  return name;
}

/**
 * Rows of one read statement, straight from the DataSource's pg pool: TypeORM's query runner (one object
 * graph per statement, its broadcaster and logger) cost more than the statement's own parsing on the
 * hottest reads. Same pool, same client-side timeouts; errors are pg's own (db/pg-errors classifies them).
 * On PostgreSQL the statement is named: each connection parses and plans it once, not once a request
 * (about half of PostgreSQL's time for `vehicle(id) { signals }`; bench/RESULTS.md).
 */
export async function readRows<T>(dataSource: DataSource, sql: string, parameters: readonly unknown[]): Promise<T[]> {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!dataSource.isInitialized || !pool) throw new Error("DataSource is not initialized");
  const name = naming.has(dataSource) ? nameOf(sql) : undefined;
  return (await pool.query({ text: sql, values: parameters as unknown[], ...(name === undefined ? {} : { name }) })).rows as T[];
}
