/**
 * GraphQL read throughput: concurrent clients querying a real fleetgraph process (its own child
 * process, so clients and server don't share an event loop) loaded with VEHICLES × 10 signals
 * through the real ingestion endpoint.
 *
 *   npm run bench:graphql                                  # 50 clients, 15 s per query, 1,000 vehicles
 *   CLIENTS=50 SECONDS=15 VEHICLES=1000 npm run bench:graphql
 *
 * Against DATABASE_URL (default: the local PostgreSQL); creates a scratch database, drops it afterwards.
 * Requests carry an admin JWT, so token verification is part of every measured request.
 */
import "reflect-metadata";
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { Client } from "pg";
import { hmacHex } from "../src/webhooks/signature";
import { listeningUrl, runMain } from "../test/helpers/main-process";

const CLIENTS = Number(process.env.CLIENTS ?? 50);
const SECONDS = Number(process.env.SECONDS ?? 15);
const VEHICLES = Number(process.env.VEHICLES ?? 1000);
const SIGNALS = 10;
const TOKEN = "bench-management-token";
const JWT_SECRET = "bench-jwt-secret-that-is-at-least-32-bytes";
const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const CODES = Array.from({ length: SIGNALS }, (_, i) => `benchgroup-signal${i}`);

const vehicleId = (index: number) => `bench-vehicle-${String(index).padStart(5, "0")}`;

function delivery(index: number, at: number): string {
  return JSON.stringify({
    eventId: randomUUID(),
    eventType: "VEHICLE_STATE",
    data: {
      user: { id: `user-${index % 50}` },
      vehicle: { id: vehicleId(index), make: "TESLA", model: "Model 3", year: 2024 },
      signals: CODES.map((code, i) => ({
        code,
        name: `Signal${i}`,
        group: "BenchGroup",
        body: { unit: "percent", value: Math.round(Math.random() * 1000) / 10 },
        status: { value: "SUCCESS" },
        meta: { oemUpdatedAt: at, retrievedAt: at },
      })),
    },
    triggers: [{ type: "SIGNAL_UPDATED", signal: { code: CODES[0] } }],
    meta: { version: "4.0", deliveryId: randomUUID(), deliveredAt: at, webhookId: "bench", mode: "LIVE", signalCount: SIGNALS },
  });
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs `worker` on `concurrency` loops until `deadline` (performance.now() ms) or until it returns false. */
async function loops(concurrency: number, worker: () => Promise<boolean>): Promise<void> {
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (await worker()) {
      // keep going
    }
  }));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Scenario {
  name: string;
  query: string;
  variables: () => Record<string, unknown>;
}

async function main(): Promise<void> {
  const name = `fg_bench_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const server = runMain({
    DATABASE_URL: url.toString(),
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info", // listeningUrl waits for the info line "fleetgraph listening"
    SMARTCAR_MANAGEMENT_TOKEN: TOKEN,
    JWT_SECRET,
  });
  try {
    const base = await listeningUrl(server);
    const jwt = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(JWT_SECRET));

    // Load: every vehicle once, through the real endpoint.
    const loadStarted = performance.now();
    let nextVehicle = 0;
    await loops(50, async () => {
      const index = nextVehicle++;
      if (index >= VEHICLES) return false;
      const body = delivery(index, Date.parse("2026-01-01T00:00:00Z") + index);
      const response = await fetch(`${base}/webhooks/smartcar`, {
        method: "POST",
        headers: { "content-type": "application/json", "sc-signature": hmacHex(TOKEN, body) },
        body,
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`load: HTTP ${response.status}`);
      return true;
    });
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    const scenarios: Scenario[] = [
      {
        name: "vehicle(id) { signals { code value } }",
        query: `query($id: ID!) { vehicle(id: $id) { signals { code value } } }`,
        variables: () => ({ id: vehicleId(Math.floor(Math.random() * VEHICLES)) }),
      },
      {
        name: "vehicles(first: 100) { edges { node { id signals { code value } } } }",
        query: `query($after: String) { vehicles(first: 100, after: $after) { edges { node { id signals { code value } } } pageInfo { endCursor } } }`,
        // Always the first page: the same work per request, comparable across runs.
        variables: () => ({ after: null }),
      },
    ];

    const results = [];
    for (const scenario of scenarios) {
      const ask = async (): Promise<number> => {
        const started = performance.now();
        const response = await fetch(`${base}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${jwt}` },
          body: JSON.stringify({ query: scenario.query, variables: scenario.variables() }),
        });
        const body = (await response.json()) as { errors?: unknown; data?: unknown };
        if (response.status !== 200 || body.errors || !body.data) throw new Error(`HTTP ${response.status} ${JSON.stringify(body.errors)}`);
        return performance.now() - started;
      };
      // Warm-up: connections, JIT, plan caches.
      for (let i = 0; i < 50; i++) await ask();

      const latencies: number[] = [];
      let failures = 0;
      const started = performance.now();
      const deadline = started + SECONDS * 1000;
      await loops(CLIENTS, async () => {
        if (performance.now() >= deadline) return false;
        try {
          latencies.push(await ask());
        } catch {
          failures++;
        }
        return true;
      });
      const elapsed = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      results.push({
        query: scenario.name,
        clients: CLIENTS,
        seconds: Math.round(elapsed * 10) / 10,
        requests: latencies.length,
        failures,
        queriesPerSecond: Math.round(latencies.length / elapsed),
        p50ms: Math.round(percentile(latencies, 50) * 10) / 10,
        p99ms: Math.round(percentile(latencies, 99) * 10) / 10,
      });
    }
    const summary = { vehicles: VEHICLES, signalsPerVehicle: SIGNALS, loadSeconds: Math.round(loadSeconds * 10) / 10, results };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
