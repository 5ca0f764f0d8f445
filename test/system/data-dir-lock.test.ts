import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { listeningUrl, runMain, type MainProcess } from "../helpers/main-process";

const ROOT = path.join(__dirname, "..", "..");

/** `npm run db:embedded -- <command>` as its own process (without npm's own start-up). */
function runWithEmbeddedDb(dataDir: string, command: string): { output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/with-embedded-db.ts", "--", command], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { output: () => output, exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))) };
}

/**
 * `npm run db:embedded` opened DATA_DIR while the service ran on it: two PGlite processes on one
 * folder corrupt it. Whoever comes second is refused with an error naming DATA_DIR and the owner.
 */
describe("DATA_DIR lock", () => {
  const running: MainProcess[] = [];
  let dataDir: string;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-data-"));
  });
  afterEach(async () => {
    for (const main of running.splice(0)) {
      if (main.child.exitCode === null) main.child.kill("SIGKILL");
      await main.exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses a second service and `npm run db:embedded` while the service runs on DATA_DIR, and frees it on stop", async () => {
    const env = { DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" };
    const first = runMain(env);
    running.push(first);
    await listeningUrl(first);
    const pid = first.child.pid;

    const second = runMain(env);
    running.push(second);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`DATA_DIR is in use by process ${pid}`);
    expect(second.output()).toContain(dataDir);

    const tool = runWithEmbeddedDb(dataDir, "echo the command ran");
    expect(await tool.exited).toBe(1);
    expect(tool.output()).toContain(`DATA_DIR is in use by process ${pid}`);
    expect(tool.output()).not.toContain("the command ran");

    // The first one still serves, unharmed.
    expect((await fetch(`${await listeningUrl(first)}/readyz`)).status).toBe(200);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(fs.existsSync(path.join(dataDir, "fleetgraph.lock"))).toBe(false);

    const after = runWithEmbeddedDb(dataDir, "echo the command ran");
    expect(await after.exited).toBe(0);
    expect(after.output()).toContain("the command ran");
  });

  it("takes over the lock of a service that was killed", async () => {
    const env = { DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" };
    const killed = runMain(env);
    running.push(killed);
    await listeningUrl(killed);
    killed.child.kill("SIGKILL");
    await killed.exited;
    expect(fs.existsSync(path.join(dataDir, "fleetgraph.lock"))).toBe(true);

    const next = runMain(env);
    running.push(next);
    expect((await fetch(`${await listeningUrl(next)}/readyz`)).status).toBe(200);
  });
});
