import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

export interface MainProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Runs `src/main.ts` as its own process, the way `npm start` runs the built service. */
export function runMain(env: Record<string, string>): MainProcess {
  const child = spawn(process.execPath, ["-r", "ts-node/register", "src/main.ts"], {
    cwd: ROOT,
    // Only what the test gives: the service must not pick up this machine's DATABASE_URL.
    env: { PATH: process.env.PATH ?? "", TS_NODE_TRANSPILE_ONLY: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
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
