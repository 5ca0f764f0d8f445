import { spawn } from "node:child_process";
import path from "node:path";
import { ensureBuilt } from "../../scripts/build";

const ROOT = path.join(__dirname, "..", "..");

/**
 * Compiles dist/ if the sources changed since the last build (what `npm start` does; after `npm ci`
 * it is already current), so the command runs as installed: `node dist/src/cli/main.js`.
 */
export function buildOnce(): void {
  ensureBuilt(ROOT);
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built `fleetgraph <args>` as its own process (call buildOnce first), with only the
 * environment given: the machine's own JWT_SECRET or token must not leak into a test.
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  const child = spawn(process.execPath, ["dist/src/cli/main.js", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`fleetgraph ${args.join(" ")} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
