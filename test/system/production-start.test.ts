import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { buildOnce } from "../helpers/cli-process";
import { listeningUrl, type MainProcess } from "../helpers/main-process";
import { postDelivery, vehicleState } from "../helpers/smartcar";
import { TEST_JWT_SECRET, TEST_MANAGEMENT_TOKEN } from "../helpers/test-app";

const ROOT = path.join(__dirname, "..", "..");

/**
 * The runtime image, without Docker: what its stages produce, laid out in a temporary folder, then
 * the exact commands it runs. The build stage's `npm run build` is the same compiler run (buildOnce);
 * the runtime stage's `npm ci --omit=dev --omit=optional` is reproduced from package-lock.json by
 * hard-linking only the packages it would install (a real `npm ci` is too slow for every CI run);
 * `node dist/src/main.js` with NODE_ENV=production on an empty database runs the migrations at start;
 * `node scripts/healthcheck.js` is the HEALTHCHECK. Not tested here: the Dockerfile's own syntax, the
 * base image, file ownership and the non-root user, which need a Docker daemon.
 */
describe("the production runtime (what the Dockerfile's runtime stage runs)", () => {
  let runtime: string;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let dataDir: string | undefined;
  let main: MainProcess | undefined;

  beforeAll(async () => {
    buildOnce();
    runtime = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-runtime-"));
    for (const file of ["package.json", "package-lock.json", "scripts/healthcheck.js"]) {
      fs.mkdirSync(path.dirname(path.join(runtime, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(runtime, file));
    }
    fs.cpSync(path.join(ROOT, "dist"), path.join(runtime, "dist"), { recursive: true });
    installProductionDependencies(runtime);
    database = await emptyDatabase();
    if (!database) dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-runtime-data-"));
  }, 180_000);

  afterAll(async () => {
    main?.child.kill("SIGKILL");
    await database?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(runtime, { recursive: true, force: true });
  });

  it("has no development dependency to lean on", () => {
    const resolvable = (name: string) => {
      try {
        require.resolve(name, { paths: [path.join(runtime, "dist", "src")] });
        return true;
      } catch {
        return false;
      }
    };
    expect(resolvable("typeorm")).toBe(true);
    for (const name of ["typescript", "ts-node", "jest", "@swc/core", "fast-check"]) expect(resolvable(name)).toBe(false);
  });

  it("starts with NODE_ENV=production, migrates an empty database, passes its health check, serves, and stops on SIGTERM", async () => {
    main = runNode(["dist/src/main.js"], {
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: "0",
      SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN,
      JWT_SECRET: TEST_JWT_SECRET,
      // Off in production by default; on here to see that the build carries the page's static files.
      FLEET_PAGE: "true",
      ...(database ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir! }),
    });
    const url = await listeningUrl(main, 60_000);
    expect(main.output()).toMatch(/"migrations applied"/);
    const port = new URL(url).port;

    expect(healthcheck(port)).toBe(0);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const delivery = vehicleState({ vehicleId: "runtime-vehicle", signals: [{ code: "odometer-traveleddistance", body: { value: 7 } }] });
    expect((await postDelivery(url, delivery)).body).toEqual({ status: "applied", eventId: delivery.eventId });
    for (const file of ["/fleet", "/fleet/fleet.js", "/fleet/fleet.css"]) expect([file, (await fetch(`${url}${file}`)).status]).toEqual([file, 200]);

    // The command line works from the image too (`docker compose exec fleetgraph-1 node dist/src/cli/main.js ...`).
    const check = spawnSync(process.execPath, ["dist/src/cli/main.js", "check-webhook", "--url", url], {
      cwd: runtime,
      env: { PATH: process.env.PATH ?? "", SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN, JWT_SECRET: TEST_JWT_SECRET },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(check.stdout).not.toMatch(/FAIL/);
    expect(check.status).toBe(0);

    main.child.kill("SIGTERM");
    expect(await main.exited).toBe(0);
    // The health check fails once nothing answers.
    expect(healthcheck(port)).toBe(1);
  });

  function runNode(args: string[], env: Record<string, string>): MainProcess {
    const child = spawn(process.execPath, args, { cwd: runtime, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, output: () => output, exited };
  }

  function healthcheck(port: string): number | null {
    return spawnSync(process.execPath, ["scripts/healthcheck.js"], { cwd: runtime, env: { PATH: process.env.PATH ?? "", PORT: port }, timeout: 30_000 }).status;
  }
});

/**
 * node_modules as `npm ci --omit=dev --omit=optional` leaves it: every package-lock.json entry not
 * flagged dev, optional or devOptional (ts-node and typescript are devOptional here, as optional peers
 * of typeorm: `--omit=dev` alone would install them). Hard links, so it takes a moment, not a download.
 */
function installProductionDependencies(runtime: string): void {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
  };
  for (const [location, entry] of Object.entries(lock.packages)) {
    if (!location.startsWith("node_modules/") || entry.dev || entry.optional || entry.devOptional) continue;
    linkPackage(path.join(ROOT, location), path.join(runtime, location));
  }
}

/** A package's own files (its nested node_modules are entries of their own). */
function linkPackage(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.name === "node_modules") continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) linkPackage(source, target);
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target);
    else {
      try {
        fs.linkSync(source, target);
      } catch {
        fs.copyFileSync(source, target); // another file system
      }
    }
  }
}

/** An empty database on DATABASE_URL's server (not the migrated test template): the image migrates it. */
async function emptyDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return undefined;
  const name = `fg_runtime_${Math.random().toString(16).slice(2, 10)}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
