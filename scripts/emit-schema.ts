/**
 * Writes schema.graphql from the code (`npm run schema`), or with --check fails when the committed file
 * is stale (`npm run schema:check`, run by CI).
 */
import "reflect-metadata";
import fs from "node:fs";
import { buildAppSchema, SCHEMA_FILE } from "../src/api/schema";
import { printAppSchema } from "../src/graphql/print-schema";

async function main(): Promise<void> {
  const sdl = printAppSchema(await buildAppSchema());
  if (process.argv.includes("--check")) {
    const committed = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, "utf8") : "";
    if (committed !== sdl) {
      process.stderr.write("schema.graphql is stale: run `npm run schema` and commit the result\n");
      process.exit(1);
    }
    process.stdout.write("schema.graphql is up to date\n");
    return;
  }
  fs.writeFileSync(SCHEMA_FILE, sdl);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
