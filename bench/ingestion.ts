/**
 * Ingestion throughput: signed 10-signal VEHICLE_STATE deliveries POSTed by concurrent senders to a
 * real fleetgraph process (its own child process, so sender and server don't share an event loop).
 *
 *   npm run bench:ingestion                       # 50 senders, 20 s, against DATABASE_URL (or local PostgreSQL)
 *   SENDERS=50 SECONDS=20 VEHICLES=500 npm run bench:ingestion
 *
 * Creates a scratch database on the server, drops it afterwards.
 */
import "reflect-metadata";
import { randomBytes, randomUUID } from "node:crypto";
import { Client } from "pg";
import { hmacHex } from "../src/webhooks/signature";
import { listeningUrl, runMain } from "../test/helpers/main-process";

const SENDERS = Number(process.env.SENDERS ?? 50);
const SECONDS = Number(process.env.SECONDS ?? 20);
const VEHICLES = Number(process.env.VEHICLES ?? 500);
const SIGNALS = 10;
const TOKEN = "bench-management-token";
const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const CODES = Array.from({ length: SIGNALS }, (_, i) => `benchgroup-signal${i}`);

function delivery(vehicleIndex: number, at: number): string {
  return JSON.stringify({
    eventId: randomUUID(),
    eventType: "VEHICLE_STATE",
    data: {
      user: { id: `user-${vehicleIndex % 50}` },
      vehicle: { id: `bench-vehicle-${vehicleIndex}`, make: "TESLA", model: "Model 3", year: 2024 },
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

async function admin<T>(sql: string): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return (await client.query(sql)) as T;
  } finally {
    await client.end();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const name = `fg_bench_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const server = runMain({ DATABASE_URL: url.toString(), PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", SMARTCAR_MANAGEMENT_TOKEN: TOKEN });
  try {
    const base = await listeningUrl(server);
    const post = async (body: string): Promise<number> => {
      const started = performance.now();
      const response = await fetch(`${base}/webhooks/smartcar`, {
        method: "POST",
        headers: { "content-type": "application/json", "sc-signature": hmacHex(TOKEN, body) },
        body,
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      return performance.now() - started;
    };

    let clock = Date.parse("2026-01-01T00:00:00Z");
    const next = () => delivery(Math.floor(Math.random() * VEHICLES), (clock += 7));
    // Warm-up: connections, JIT, the vehicles' first rows.
    for (let i = 0; i < 200; i++) await post(next());

    const latencies: number[] = [];
    let failures = 0;
    const deadline = performance.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (performance.now() < deadline) {
          const body = next();
          try {
            latencies.push(await post(body));
          } catch {
            failures++;
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const result = {
      senders: SENDERS,
      signalsPerDelivery: SIGNALS,
      vehicles: VEHICLES,
      seconds: Math.round(elapsed * 10) / 10,
      deliveries: latencies.length,
      failures,
      deliveriesPerSecond: Math.round(latencies.length / elapsed),
      p50ms: Math.round(percentile(latencies, 50) * 10) / 10,
      p99ms: Math.round(percentile(latencies, 99) * 10) / 10,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
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
