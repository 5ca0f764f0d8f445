import fs from "node:fs";
import { listeningUrl, runNpmStart, type MainProcess } from "../helpers/main-process";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database";

/** Whether `pid` is a live process (a zombie waiting to be reaped has stopped: it holds no port). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return process.platform === "linux" ? false : true;
  }
}

/** The service's own pid, from its "fleetgraph listening" line (pino writes the pid on every line). */
function servicePid(main: MainProcess): number {
  const line = main.output().split("\n").find((text) => text.includes('"fleetgraph listening"'));
  if (!line) throw new Error(`no "fleetgraph listening" line:\n${main.output()}`);
  return (JSON.parse(line) as { pid: number }).pid;
}

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/**
 * `npm start` is how many run the service (a Dockerfile's `CMD ["npm", "start"]`, a systemd unit, a
 * terminal). They stop it by signalling npm's process, the only one they know: the service must stop
 * with it, not stay behind on its port with no parent.
 */
describe("npm start", () => {
  let database: TestDatabase;
  const services: number[] = [];
  const running: MainProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    // What a failed test leaves behind is killed here, not left running on the machine.
    for (const pid of services.splice(0)) if (isRunning(pid)) process.kill(pid, "SIGKILL");
    for (const main of running.splice(0)) {
      if (main.child.exitCode === null && main.child.signalCode === null) main.child.kill("SIGKILL");
      await main.exited;
    }
  });
  afterAll(async () => database?.release());

  async function start(): Promise<{ npm: MainProcess; url: string; pid: number }> {
    const npm = runNpmStart({
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      // An embedded test database is one PGlite session behind its socket.
      ...(database.embedded ? { DATABASE_POOL_SIZE: "1" } : {}),
    });
    running.push(npm);
    const url = await listeningUrl(npm);
    const pid = servicePid(npm);
    services.push(pid);
    expect(pid).not.toBe(npm.child.pid);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    return { npm, url, pid };
  }

  it("stops the service, gracefully, when npm's process is sent SIGTERM, and exits with it", async () => {
    const { npm, url, pid } = await start();
    npm.child.kill("SIGTERM");
    expect(await gone(pid, 10_000)).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(npm.output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(await npm.exited).toBe(0);
  });

  it("stops the service when npm's process is killed outright (SIGKILL: it cannot pass anything on)", async () => {
    const { npm, url, pid } = await start();
    npm.child.kill("SIGKILL");
    await npm.exited;
    expect(await gone(pid, 10_000)).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
