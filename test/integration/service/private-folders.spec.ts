import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createApp, type App } from "../../../src/app";
import { loadConfig } from "../../../src/config";
import { createLogger } from "../../../src/logger";
import { Spool } from "../../../src/webhooks/spool";
import { TEST_JWT_SECRET, TEST_MANAGEMENT_TOKEN, startTestApp } from "../../helpers/test-app";

const folders: string[] = [];
const apps: App[] = [];
let umask: number | undefined;

afterEach(async () => {
  if (umask !== undefined) process.umask(umask);
  umask = undefined;
  for (const app of apps.splice(0)) await app.stop();
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

/** A fresh parent folder; the tests name a folder inside it that does not exist yet (the service creates it). */
function parentFolder(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-private-"));
  folders.push(folder);
  return folder;
}

/** Until the test ends, files and folders are created with every permission the code asks for. */
function openUmask(): void {
  umask = process.umask(0o000);
}

const modeOf = (file: string) => `0${(fs.statSync(file).mode & 0o777).toString(8)}`;

/** Every folder and file under `dir` (itself included), relative to it, with its mode. */
function modesUnder(dir: string): Record<string, string> {
  const modes: Record<string, string> = { ".": modeOf(dir) };
  for (const entry of fs.readdirSync(dir, { recursive: true }) as string[]) modes[entry] = modeOf(path.join(dir, entry));
  return modes;
}

/** The app on the embedded database in `dataDir` (no DATABASE_URL), as `npm start` without one. */
function embeddedApp(dataDir: string, logs: string[]) {
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN,
    JWT_SECRET: TEST_JWT_SECRET,
  });
  const app = createApp(config, { logger: createLogger("info", { write: (line: string) => void logs.push(line) }) });
  apps.push(app);
  return app;
}

/**
 * SPOOL_DIR holds raw deliveries (user ids, locations) and DATA_DIR the whole database: no other local
 * account may read them, whatever the umask the service was started with, and a folder that others can
 * write (so could have planted or changed files) is refused rather than used.
 */
describe("SPOOL_DIR and DATA_DIR are private to the service's user", () => {
  it("creates the spool folder 0700 and its files 0600 under a umask of 0", async () => {
    openUmask();
    const dir = path.join(parentFolder(), "spool");
    const spool = await Spool.open(dir, createLogger("silent"));
    try {
      const receivedAt = new Date("2026-11-01T00:00:00Z");
      for (const eventId of ["e1", "e2"]) await spool.append({ receivedAt, rawBody: Buffer.from(`{"eventId":"${eventId}"}`) });
      const batch = await spool.readBatch(1);
      await spool.ack(batch.end, 1); // one of two applied: the drained offset is written
      expect(modesUnder(dir)).toEqual({
        ".": "0700",
        "deliveries.spool": "0600",
        "deliveries.drained": "0600",
        "spool.lock": "0600",
      });
    } finally {
      await spool.close();
    }
  });

  it("makes an older version's readable spool folder and file private at start, and says so", async () => {
    const dir = path.join(parentFolder(), "spool");
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, "deliveries.spool"), "");
    fs.chmodSync(path.join(dir, "deliveries.spool"), 0o644);
    const logs: string[] = [];
    await startTestApp({ SPOOL_DIR: dir }, { logs });
    expect(modesUnder(dir)).toEqual({ ".": "0700", "deliveries.spool": "0600", "spool.lock": "0600" });
    expect(logs.join("\n")).toContain("SPOOL_DIR: folder made private");
  });

  it("refuses to start on a spool folder that other users can write, saying what to run", async () => {
    const dir = path.join(parentFolder(), "spool");
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    await expect(startTestApp({ SPOOL_DIR: dir })).rejects.toThrow(`SPOOL_DIR ${dir} can be written by other users (mode 0777)`);
    await expect(startTestApp({ SPOOL_DIR: dir })).rejects.toThrow(`run \`chmod 700 ${dir}\``);
    fs.chmodSync(dir, 0o770);
    await expect(startTestApp({ SPOOL_DIR: dir })).rejects.toThrow(/can be written by other users \(mode 0770\)/);
    // Nothing was written into it.
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("creates the embedded database's folder 0700 under a umask of 0, with its lock 0600", async () => {
    openUmask();
    const dataDir = path.join(parentFolder(), "data");
    const app = embeddedApp(dataDir, []);
    await app.start();
    expect(modeOf(dataDir)).toBe("0700");
    expect(modeOf(path.join(dataDir, "fleetgraph.lock"))).toBe("0600");
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    await app.stop();
    expect(modeOf(dataDir)).toBe("0700");
  });

  it("makes a readable data folder private at start, and refuses one that other users can write", async () => {
    const dataDir = path.join(parentFolder(), "data");
    fs.mkdirSync(dataDir);
    fs.chmodSync(dataDir, 0o777);
    const logs: string[] = [];
    await expect(embeddedApp(dataDir, logs).start()).rejects.toThrow(
      `DATA_DIR ${dataDir} can be written by other users (mode 0777); check what is in it, then run \`chmod 700 ${dataDir}\``,
    );
    expect(fs.readdirSync(dataDir)).toEqual([]);

    fs.chmodSync(dataDir, 0o755);
    const app = embeddedApp(dataDir, logs);
    await app.start();
    await app.stop();
    expect(modeOf(dataDir)).toBe("0700");
    expect(logs.join("\n")).toContain("DATA_DIR: folder made private");
  });
});
