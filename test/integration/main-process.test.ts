import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { listeningUrl, runMain, type MainProcess } from "../helpers/main-process";
import { postDelivery, vehicleState } from "../helpers/smartcar";

describe("the service process", () => {
  const running: MainProcess[] = [];
  afterEach(() => {
    for (const main of running.splice(0)) main.child.kill("SIGKILL");
  });

  it("refuses to start in production without its secrets, naming them and printing no secret", async () => {
    const main = runMain({ NODE_ENV: "production", JWT_SECRET: "too-short-but-secret", DATABASE_URL: "postgres://u:pw@127.0.0.1:1/x" });
    running.push(main);
    expect(await main.exited).toBe(78);
    expect(main.output()).toMatch(/SMARTCAR_MANAGEMENT_TOKEN is required when NODE_ENV=production/);
    expect(main.output()).toMatch(/JWT_SECRET must be at least 32 bytes/);
    expect(main.output()).not.toContain("too-short-but-secret");
  });

  describe("without DATABASE_URL", () => {
    let dataDir: string;
    // Stored by the first start, recognised by the second: the data survived the restart.
    const delivery = vehicleState({ vehicleId: "restart-vehicle", signals: [{ code: "odometer-traveleddistance", body: { value: 1 } }] });
    beforeAll(() => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-"));
    });
    afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    it("serves from an embedded database in DATA_DIR, says so, and stops cleanly on SIGTERM", async () => {
      const main = runMain({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" });
      running.push(main);
      const url = await listeningUrl(main);
      expect(main.output()).toMatch(/database: embedded PostgreSQL \(PGlite\)/);
      expect(main.output()).toMatch(/JWT_SECRET is not set: the GraphQL API is OPEN/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      // No SMARTCAR_MANAGEMENT_TOKEN: development accepts unsigned deliveries.
      expect((await postDelivery(url, delivery, { token: null })).body).toEqual({ status: "applied", eventId: delivery.eventId });
      main.child.kill("SIGTERM");
      expect(await main.exited).toBe(0);
      expect(fs.readdirSync(dataDir).length).toBeGreaterThan(0);
    });

    it("reopens the same database on the next start, with the data written before", async () => {
      const main = runMain({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" });
      running.push(main);
      const url = await listeningUrl(main);
      // The first start applied the migrations; a reopened database has nothing left to apply.
      expect(main.output()).not.toMatch(/migrations applied/);
      expect((await postDelivery(url, delivery, { token: null })).body).toEqual({ status: "duplicate", eventId: delivery.eventId });
      main.child.kill("SIGINT");
      expect(await main.exited).toBe(0);
    });
  });
});
