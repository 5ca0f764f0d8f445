#!/usr/bin/env node
/**
 * `fleetgraph`: the command line of the service (package `bin`). One module per subcommand; this file
 * only dispatches and turns errors into exit codes. See README, "Command line".
 */
import fs from "node:fs";
import path from "node:path";
import { checkWebhookCommand } from "./check-webhook";
import { EXIT_CONFIG, EXIT_USAGE, SetupError, UsageError, type Command, type CommandIO } from "./command";
import { reprocessCommand } from "./reprocess";
import { simulateCommand } from "./simulate";
import { tokenCommand } from "./token";

const COMMANDS: readonly Command[] = [tokenCommand, simulateCommand, reprocessCommand, checkWebhookCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    "Usage: fleetgraph <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    "",
    "Run `fleetgraph <command> --help` for a command's options.",
  ].join("\n");
}

export async function runCli(argv: readonly string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.err : io.out)(overview());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.err(`fleetgraph: unknown command ${JSON.stringify(name)}\n\n${overview()}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`fleetgraph ${command.name}: ${error.message}\nRun \`fleetgraph ${command.name} --help\` for its options.`);
      return EXIT_USAGE;
    }
    if (error instanceof SetupError) {
      io.err(`fleetgraph ${command.name}: ${error.message}`);
      return EXIT_CONFIG;
    }
    io.err(`fleetgraph ${command.name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/**
 * `npx fleetgraph` runs the compiled dist/; in a checkout whose sources changed since the last build
 * that is old code, which would be a confusing way to test a change: say so (npm start rebuilds).
 */
function warnIfStale(io: CommandIO): void {
  if (!__filename.endsWith(".js")) return; // run from the sources (ts-node)
  const root = path.join(__dirname, "..", "..", "..");
  const freshness = path.join(root, "scripts", "build.js");
  if (!fs.existsSync(freshness)) return; // an image or a package: no sources to compare with
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildState } = require(freshness) as typeof import("../../scripts/build");
  if (buildState(root) === "stale") io.err("fleetgraph: dist/ is older than the sources: `npm run build` (or `npm start`) to run your changes");
}

if (require.main === module) {
  const io: CommandIO = {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  warnIfStale(io);
  void runCli(process.argv.slice(2), io).then((code) => {
    // End naturally so stdout drains; a leftover keep-alive socket must not hold the process, though.
    process.exitCode = code;
    setTimeout(() => process.exit(code), 2000).unref();
  });
}
