/**
 * Runs a command against the embedded database in DATA_DIR (default ./.fleetgraph), e.g.
 * `npm run db:embedded -- npm run migration:show`. PGlite is single-process: while the service runs on
 * DATA_DIR this is refused (DATA_DIR/fleetgraph.lock names the process holding it).
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres";

async function main(): Promise<void> {
  const separator = process.argv.indexOf("--");
  const command = process.argv.slice(separator >= 0 ? separator + 1 : 2);
  if (command.length === 0) throw new Error("usage: npm run db:embedded -- <command> [args...]");
  const dataDir = path.resolve(process.env.DATA_DIR ?? ".fleetgraph");
  const db = await startEmbeddedPostgres({ dataDir });
  const child = spawn(command.join(" "), { shell: true, stdio: "inherit", env: { ...process.env, DATABASE_URL: db.url } });
  const code = await new Promise<number>((resolve) => child.on("exit", (status) => resolve(status ?? 1)));
  await db.stop();
  process.exit(code);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
