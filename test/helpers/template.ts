import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { Client } from "pg";
import { createDataSource } from "../../src/db/data-source";
import { startEmbeddedPostgres } from "../../src/db/embedded-postgres";

/**
 * Set by test/global-setup.ts: a database migrated once per run, which each test file copies.
 * `FLEETGRAPH_TEST_TEMPLATE` names a template database on DATABASE_URL's server;
 * `FLEETGRAPH_TEST_DUMP` is the file of an embedded database's dump.
 */
export const TEMPLATE = "FLEETGRAPH_TEST_TEMPLATE";
export const DUMP = "FLEETGRAPH_TEST_DUMP";

/** Migrates one database for the whole run and says where it is (global setup; test files copy it: see test-database.ts). */
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

export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

