import path from "node:path";
import { DataSource, type DataSourceOptions } from "typeorm";
import { SnakeNamingStrategy } from "./naming-strategy";

/** `migrations/` at the repository root, as .ts from source and .js from `dist/`. */
const MIGRATIONS_GLOB = path.join(__dirname, "..", "..", "migrations", `*.${__filename.endsWith(".ts") ? "ts" : "js"}`);

export interface DataSourceSettings {
  url: string;
  /** Pool size. @default 10 */
  poolSize?: number;
  /** The mapped classes (src/entities.ts); the migrations alone need none. */
  entities?: DataSourceOptions["entities"];
}

export function dataSourceOptions({ url, poolSize = 10, entities = [] }: DataSourceSettings): DataSourceOptions {
  return {
    type: "postgres",
    url,
    entities,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: "migrations",
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install.
    uuidExtension: "pgcrypto",
    // One migration failing leaves the schema as it was.
    migrationsTransactionMode: "each",
    extra: {
      max: poolSize,
      // Fail fast when the database is unreachable, so webhook callers get a 503 well within Smartcar's 15 s.
      connectionTimeoutMillis: 5000,
      application_name: "fleetgraph",
    },
  };
}

export function createDataSource(settings: DataSourceSettings): DataSource {
  return new DataSource(dataSourceOptions(settings));
}
