import fs from "node:fs";
import NodeEnvironment from "jest-environment-node";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded-postgres";

/**
 * Jest's node environment plus one thing: test files start their embedded databases (PGlite) from
 * here, the worker's own module scope, instead of from their own module registry. Jest gives every
 * test file a fresh registry, so PGlite imported there would compile and start its WebAssembly
 * PostgreSQL anew in each file (about 2 s); loaded once per worker it costs a fraction of that. It
 * also runs PGlite outside jest's VM context, which cannot host its dynamic imports.
 */
export default class TestEnvironment extends NodeEnvironment {
  override async setup(): Promise<void> {
    await super.setup();
    this.global.startEmbeddedTestDatabase = startFromDump;
  }
}

/** The run's migrated dump (see test/global-setup.ts), read once per worker. */
let dump: Blob | undefined;

function startFromDump(file: string): Promise<EmbeddedPostgres> {
  dump ??= new Blob([fs.readFileSync(file)]);
  return startEmbeddedPostgres({ load: dump });
}
