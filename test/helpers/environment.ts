import fs from "node:fs";
import NodeEnvironment from "jest-environment-node";
import { Client } from "pg";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded-postgres";

/**
 * Jest's node environment plus one thing: test files get their embedded databases (PGlite) from
 * here, the worker's own module scope, instead of from their own module registry. Jest gives every
 * test file a fresh registry, so PGlite imported there would compile its WebAssembly PostgreSQL anew
 * in each file (about 1.5 s). This also runs PGlite outside jest's VM context, which cannot host its
 * dynamic imports.
 */
export default class TestEnvironment extends NodeEnvironment {
  private readonly database = new LentDatabase();

  override async setup(): Promise<void> {
    await super.setup();
    this.global.embeddedTestDatabase = (dumpFile: string) => this.database.lend(dumpFile);
  }

  override async teardown(): Promise<void> {
    await this.database.discard();
    await super.teardown();
  }
}

/**
 * One embedded database per test file, lent to the file or to each spec of a group in turn, in the
 * state of the run's migrated dump (see test/global-setup.ts). Between borrowers it is emptied instead
 * of started anew (loading a dump costs about half a second of CPU): every table truncated, identities
 * restarted, the shared session's state discarded. When a test changed the schema (a trigger, a
 * renamed table, migrations undone), it is thrown away and loaded from the dump again, so no test
 * sees another's leftovers.
 */
class LentDatabase {
  private started: { db: EmbeddedPostgres; schema: string } | undefined;
  private lent = false;

  async lend(dumpFile: string): Promise<{ url: string; drop(): Promise<void> }> {
    if (this.lent) throw new Error("the embedded test database is still in use");
    this.lent = true;
    try {
      if (this.started === undefined) {
        const db = await startEmbeddedPostgres({ load: new Blob([fs.readFileSync(dumpFile)]) });
        this.started = { db, schema: await query(db.url, SCHEMA) };
      }
    } catch (error) {
      this.lent = false;
      throw error;
    }
    const { db, schema } = this.started;
    return {
      url: db.url,
      drop: async () => {
        try {
          if ((await query(db.url, SCHEMA)) !== schema) await this.discard();
          else for (const step of EMPTY) await query(db.url, step);
        } catch {
          await this.discard();
        } finally {
          this.lent = false;
        }
      },
    };
  }

  async discard(): Promise<void> {
    const db = this.started?.db;
    this.started = undefined;
    await db?.stop();
  }
}

/** Everything a test could change about the schema: tables, columns, indexes, sequences, views, functions, triggers, migrations. */
const SCHEMA = `
  SELECT md5(concat_ws('|',
    (SELECT string_agg(c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY c.relname, a.attnum)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
      WHERE n.nspname = 'public' AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped),
    (SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'),
    (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),
    (SELECT string_agg(name, ',' ORDER BY id) FROM migrations))) AS value`;

/** Back to the migrated dump's state: PGlite serves every connection from one session, so its state goes too. */
const EMPTY = [
  `DO $$ BEGIN
     PERFORM pg_advisory_unlock_all();
     EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I.%I', schemaname, tablename), ', ') || ' RESTART IDENTITY CASCADE'
                FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations');
   END $$`,
  `DISCARD ALL`,
];

async function query(url: string, sql: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ value: string }>(sql);
    return rows[0]?.value ?? "";
  } finally {
    await client.end();
  }
}
