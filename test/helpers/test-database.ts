import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { Client } from "pg";
import { createDataSource } from "../../src/db/data-source";
import { startEmbeddedPostgres } from "../../src/db/embedded-postgres";

/** Provided by test/helpers/environment.ts: the worker's embedded database, in the dump's state. */
declare const embeddedTestDatabase: (dumpFile: string) => Promise<Pick<TestDatabase, "url" | "drop">>;

export interface TestDatabase {
  readonly url: string;
  readonly embedded: boolean;
  drop(): Promise<void>;
}

/**
 * Set by test/global-setup.ts: a database migrated once per run, which each test file copies.
 * `FLEETGRAPH_TEST_TEMPLATE` names a template database on DATABASE_URL's server;
 * `FLEETGRAPH_TEST_DUMP` is the file of an embedded database's dump.
 */
const TEMPLATE = "FLEETGRAPH_TEST_TEMPLATE";
const DUMP = "FLEETGRAPH_TEST_DUMP";

/**
 * A fresh, migrated database for one test file: a copy of the run's template on the server named by
 * DATABASE_URL, or, without one, the worker's embedded PostgreSQL in the state of the run's dump.
 * Copying skips initdb and the migrations in every file: the slow part of starting a test database.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dump = process.env[DUMP];
    if (!dump) throw new Error(`${DUMP} is unset: run tests through jest's global setup (npm test)`);
    return { ...(await embeddedTestDatabase(dump)), embedded: true };
  }
  const name = `fg_test_${randomBytes(6).toString("hex")}`;
  const template = process.env[TEMPLATE];
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`));
  return {
    url: databaseUrl(adminUrl, name),
    embedded: false,
    drop: () => dropDatabase(adminUrl, name),
  };
}

/** Migrates one database for the whole run and says where it is (global setup; see createTestDatabase). */
export async function prepareTemplate(): Promise<() => Promise<void>> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const db = await startEmbeddedPostgres();
    await migrate(db.url);
    const file = `${os.tmpdir()}/fleetgraph-test-${randomBytes(6).toString("hex")}.tar`;
    fs.writeFileSync(file, Buffer.from(await (await db.dump()).arrayBuffer()));
    await db.stop();
    process.env[DUMP] = file;
    return async () => fs.rmSync(file, { force: true });
  }
  const name = `fg_template_${randomBytes(6).toString("hex")}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  await migrate(databaseUrl(adminUrl, name));
  process.env[TEMPLATE] = name;
  return () => dropDatabase(adminUrl, name);
}

async function migrate(url: string): Promise<void> {
  const ds = createDataSource({ url, poolSize: 1 });
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: "each" });
  } finally {
    await ds.destroy();
  }
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A suite that needs a PostgreSQL server (DATABASE_URL): without one it is skipped, and its name says
 * why (`why`: what the embedded database cannot do), so a skip is never silent.
 */
export function describeOnPostgres(name: string, why: string, suite: () => void): void {
  if (process.env.DATABASE_URL) describe(name, suite);
  else describe.skip(`${name} [skipped without DATABASE_URL: ${why}]`, suite);
}
