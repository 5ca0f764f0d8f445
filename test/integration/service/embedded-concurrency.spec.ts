import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createApp, type App } from "../../../src/app";
import { loadConfig } from "../../../src/config";
import { createLogger } from "../../../src/logger";
import { gql, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { TEST_JWT_SECRET, TEST_MANAGEMENT_TOKEN } from "../../helpers/test-app";

const SOC = "tractionbattery-stateofcharge";
const ODO = "odometer-traveleddistance";
const VEHICLES = 8;
const ROUNDS = 6;

/**
 * The embedded default (`npm start` without DATABASE_URL): PGlite is one PostgreSQL session behind a
 * socket server that interleaves the messages of its client connections, so concurrent statements
 * once lost their results ("unnamed prepared statement does not exist", empty answers).
 */
describe("the embedded default database under concurrent deliveries and queries", () => {
  let app: App;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-embedded-"));
    const config = loadConfig({
      DATA_DIR: dataDir,
      PORT: "0",
      HOST: "127.0.0.1",
      SMARTCAR_MANAGEMENT_TOKEN: TEST_MANAGEMENT_TOKEN,
      JWT_SECRET: TEST_JWT_SECRET,
      GRAPHQL_RATE_LIMIT: "0",
      GRAPHQL_IP_RATE_LIMIT: "0",
    });
    expect(config.databaseUrl).toBeUndefined();
    app = createApp(config, { logger: createLogger(process.env.TEST_LOG_LEVEL ?? "silent") });
    await app.start();
  });
  afterAll(async () => {
    await app?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers every one of 8 concurrent signed deliveries and queries rightly, round after round", async () => {
    const token = await signToken({ role: "admin" });
    const vehicleIds = Array.from({ length: VEHICLES }, () => randomUUID());
    const query = `query ($id: ID!) { vehicle(id: $id) { id signals(codes: ["${SOC}", "${ODO}"]) { code value } } }`;

    for (let round = 1; round <= ROUNDS; round++) {
      const deliveries = vehicleIds.map((vehicleId) =>
        vehicleState({
          vehicleId,
          signals: [
            { code: SOC, body: { value: round }, oemUpdatedAt: Date.UTC(2026, 10, 1, 0, 0, round) },
            { code: ODO, body: { value: round * 100, unit: "km" }, oemUpdatedAt: Date.UTC(2026, 10, 1, 0, 0, round) },
          ],
        }),
      );
      const [posted, read] = await Promise.all([
        Promise.all(deliveries.map((delivery) => postDelivery(app.url, delivery))),
        // Queries of the vehicles delivered in the round before, interleaved with this round's writes.
        Promise.all(vehicleIds.map((id) => gql<{ vehicle: { id: string; signals: Array<{ code: string; value: unknown }> } | null }>(app.url, query, { token, variables: { id } }))),
      ]);
      expect(posted.map((p) => [p.status, p.body])).toEqual(deliveries.map((d) => [200, { status: "applied", eventId: d.eventId }]));
      for (const [index, answer] of read.entries()) {
        expect(answer.errors).toBeUndefined();
        if (round === 1 && answer.data?.vehicle === null) continue; // not delivered yet
        const values = new Map(answer.data?.vehicle?.signals.map((s) => [s.code, s.value]));
        expect(answer.data?.vehicle?.id).toBe(vehicleIds[index]);
        // This round's value or the one before: never empty, never another vehicle's.
        expect([round - 1, round]).toContain(values.get(SOC));
        expect([(round - 1) * 100, round * 100]).toContain(values.get(ODO));
      }
    }

    // After the last round every vehicle reads its last values.
    for (const id of vehicleIds) {
      const answer = await gql<{ vehicle: { signals: Array<{ code: string; value: unknown }> } }>(app.url, query, { token, variables: { id } });
      expect(answer.data?.vehicle.signals).toEqual(expect.arrayContaining([{ code: SOC, value: ROUNDS }, { code: ODO, value: ROUNDS * 100 }]));
    }
    const [{ events }] = await app.dataSource.query(`SELECT count(*)::int AS events FROM webhook_events`);
    expect(events).toBe(VEHICLES * ROUNDS);
  });
});
