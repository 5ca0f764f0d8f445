import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { ensureBuilt } from "../../scripts/build";

const ROOT = path.join(__dirname, "..", "..");

export interface MainProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Runs the built service (`dist/src/main.js`) as its own process, as `npm start` does; compiles it
 * first when the sources changed since the last build (after `npm ci` it is current).
 */
export function runMain(env: Record<string, string>): MainProcess {
  ensureBuilt(ROOT);
  return watch(
    spawn(process.execPath, ["dist/src/main.js"], {
      cwd: ROOT,
      // Only what the test gives: the service must not pick up this machine's DATABASE_URL.
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

/**
 * `npm start` as a user types it: `child` is npm's own process (what Docker or systemd signal), the
 * service runs below it. Compiled beforehand, as after `npm ci`, so start-up does not wait on tsc.
 */
export function runNpmStart(env: Record<string, string>): MainProcess {
  ensureBuilt(ROOT);
  return watch(
    spawn("npm", ["start"], {
      cwd: ROOT,
      // HOME for npm's own configuration; none of this machine's npm_* or DATABASE_URL settings.
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.tmpdir(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

function watch(child: ChildProcess): MainProcess {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits for the "fleetgraph listening" log line and returns its URL. */
export async function listeningUrl(main: MainProcess, timeoutMs = 45_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of main.output().split("\n")) {
      if (line.includes('"fleetgraph listening"')) return (JSON.parse(line) as { url: string }).url;
    }
    if (main.child.exitCode !== null) throw new Error(`service exited early:\n${main.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`service did not start within ${timeoutMs} ms:\n${main.output()}`);
}

/** Waits until the process has written something matching `pattern`. */
export async function waitForOutput(main: MainProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(main.output())) {
    if (Date.now() > deadline) throw new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${main.output()}`);
    if (main.child.exitCode !== null) throw new Error(`service exited:\n${main.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
