import fs from "node:fs";
import NodeEnvironment from "jest-environment-node";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded-postgres";

/**
 * Jest's node environment plus one thing: test files start their embedded databases (PGlite) from
 * here, the worker's own module scope, instead of from their own module registry. Jest gives every
 * test file a fresh registry, so PGlite imported there would compile its WebAssembly PostgreSQL anew
 * in each file (about 1.5 s). This also runs PGlite outside jest's VM context, which cannot host its
 * dynamic imports. (test/helpers/test-database.ts decides when to start and stop them.)
 */
/** The run's migrated dump (see test/global-setup.ts), read once per worker. */
let dump: Blob | undefined;

export default class TestEnvironment extends NodeEnvironment {
  private readonly started = new Set<EmbeddedPostgres>();

  override async setup(): Promise<void> {
    await super.setup();
    this.global.startEmbeddedTestDatabase = async (dumpFile: string) => {
      dump ??= new Blob([fs.readFileSync(dumpFile)]);
      const db = await startEmbeddedPostgres({ load: dump });
      this.started.add(db);
      return {
        url: db.url,
        stop: async () => {
          this.started.delete(db);
          await db.stop();
        },
      };
    };
  }

  /** Whatever a file left running ends with it: a listening PGlite would keep jest's process alive. */
  override async teardown(): Promise<void> {
    for (const db of this.started) await db.stop();
    this.started.clear();
    await super.teardown();
  }
}
