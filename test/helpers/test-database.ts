import { randomBytes } from "node:crypto";
import type { Client } from "pg";
import { databaseUrl, DUMP, dropDatabase, TEMPLATE, withClient } from "./template";

/** Provided by test/helpers/environment.ts: PGlite started from the dump in the worker's scope (compiled once per worker). */
declare const startEmbeddedTestDatabase: (dumpFile: string) => Promise<{ url: string; stop(): Promise<void> }>;

export interface TestDatabase {
  readonly url: string;
  readonly embedded: boolean;
  /** Hands the database back: the next borrower of this file gets it emptied (see createTestDatabase). */
  release(): Promise<void>;
}

/** This test file's copy of the run's template, and the schema it started with (see schemaOf). */
let copy: { url: string; embedded: boolean; schema: string; dispose(): Promise<void> } | undefined;
let lent = false;

/** The copy goes with the file. */
afterAll(() => disposeCopy());

/**
 * A migrated database in the template's state, for a test file or for one spec of a group at a time:
 * the file's copy of the run's template (`CREATE DATABASE … TEMPLATE` on the server named by
 * DATABASE_URL; without one, an embedded PostgreSQL loaded from the run's dump). Copying skips initdb
 * and the migrations: the slow part of a test database. Between the specs of a group the copy is
 * emptied instead of copied again (a copy costs about 0.3 s of PostgreSQL's time): every table
 * truncated, identities restarted, advisory locks and session state let go. When a test changed the
 * schema (a trigger, a renamed table, migrations undone), the copy is thrown away and made anew, so
 * no test sees another's leftovers.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (lent) throw new Error("this test file's database is still in use");
  lent = true;
  try {
    copy ??= await newCopy();
  } catch (error) {
    lent = false;
    throw error;
  }
  const { url, embedded, schema } = copy;
  return {
    url,
    embedded,
    async release() {
      try {
        if ((await withClient(url, schemaOf)) !== schema) await disposeCopy();
        else await withClient(url, empty);
      } catch {
        await disposeCopy();
      } finally {
        lent = false;
      }
    },
  };
}

async function newCopy(): Promise<NonNullable<typeof copy>> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dump = process.env[DUMP];
    if (!dump) throw new Error(`${DUMP} is unset: run tests through jest's global setup (npm test)`);
    const db = await startEmbeddedTestDatabase(dump);
    return { url: db.url, embedded: true, schema: await withClient(db.url, schemaOf), dispose: () => db.stop() };
  }
  const name = `fg_test_${randomBytes(6).toString("hex")}`;
  const template = process.env[TEMPLATE];
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`));
  const url = databaseUrl(adminUrl, name);
  return { url, embedded: false, schema: await withClient(url, schemaOf), dispose: () => dropDatabase(adminUrl, name) };
}

async function disposeCopy(): Promise<void> {
  const disposed = copy;
  copy = undefined;
  await disposed?.dispose();
}

/** Everything a test could change about the schema: tables, columns, indexes, functions, triggers, migrations. */
async function schemaOf(client: Client): Promise<string> {
  const { rows } = await client.query<{ schema: string }>(`
    SELECT md5(concat_ws('|',
      (SELECT string_agg(c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY c.relname, a.attnum)
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE n.nspname = 'public' AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped),
      (SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'),
      (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),
      (SELECT string_agg(name, ',' ORDER BY id) FROM migrations))) AS schema`);
  return rows[0].schema;
}

/**
 * Back to the template's state. PGlite serves every connection from one session, so that session's
 * state goes too. A lock a test left held fails this within seconds (the copy is then made anew).
 */
async function empty(client: Client): Promise<void> {
  await client.query(`SET lock_timeout = '5s'`);
  await client.query(`
    DO $$ BEGIN
      PERFORM pg_advisory_unlock_all();
      EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I.%I', schemaname, tablename), ', ') || ' RESTART IDENTITY CASCADE'
                 FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations');
    END $$`);
  await client.query(`DISCARD ALL`);
}

/**
 * A suite that needs a PostgreSQL server (DATABASE_URL): without one it is skipped, and its name says
 * why (`why`: what the embedded database cannot do), so a skip is never silent.
 */
export function describeOnPostgres(name: string, why: string, suite: () => void): void {
  if (process.env.DATABASE_URL) describe(name, suite);
  else describe.skip(`${name} [skipped without DATABASE_URL: ${why}]`, suite);
}
