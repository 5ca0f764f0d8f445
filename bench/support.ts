/** What every benchmark needs: a scratch database, signed deliveries, an admin token, percentiles. */
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { Client } from "pg";
import { hmacHex } from "../src/webhooks/signature";

export const MANAGEMENT_TOKEN = "bench-management-token";
export const JWT_SECRET = "bench-jwt-secret-that-is-at-least-32-bytes";
const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface ScratchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** A new database on the server of DATABASE_URL (default: the local PostgreSQL). */
export async function scratchDatabase(): Promise<ScratchDatabase> {
  const name = `fg_bench_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
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

export interface BenchSignal {
  readonly code: string;
  readonly value: number;
}

/** A 4.0 LIVE VEHICLE_STATE body, shaped like the captured ones, every signal observed at `at`. */
export function vehicleStateBody(vehicleId: string, userId: string, signals: readonly BenchSignal[], at: number): string {
  return JSON.stringify({
    eventId: randomUUID(),
    eventType: "VEHICLE_STATE",
    data: {
      user: { id: userId },
      vehicle: { id: vehicleId, make: "TESLA", model: "Model 3", year: 2024 },
      signals: signals.map(({ code, value }) => ({
        code,
        name: code,
        group: code.split("-")[0],
        body: { unit: "percent", value },
        status: { value: "SUCCESS" },
        meta: { oemUpdatedAt: at, retrievedAt: at },
      })),
    },
    triggers: [{ type: "SIGNAL_UPDATED", signal: { code: signals[0]?.code } }],
    meta: { version: "4.0", deliveryId: randomUUID(), deliveredAt: at, webhookId: "bench", mode: "LIVE", signalCount: signals.length },
  });
}

/** POSTs a delivery signed with MANAGEMENT_TOKEN; resolves when the 200 arrived (performance.now()). */
export async function postDelivery(baseUrl: string, body: string): Promise<number> {
  const response = await fetch(`${baseUrl}/webhooks/smartcar`, {
    method: "POST",
    headers: { "content-type": "application/json", "sc-signature": hmacHex(MANAGEMENT_TOKEN, body) },
    body,
  });
  const answeredAt = performance.now();
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`webhook: HTTP ${response.status}`);
  return answeredAt;
}

export function adminJwt(expiresIn = "2h"): Promise<string> {
  return new SignJWT({ role: "admin" })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

/** Runs `worker` in `concurrency` loops, each until it returns false. */
export async function loops(concurrency: number, worker: () => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (await worker()) {
        // keep going
      }
    }),
  );
}

export interface Measurement {
  readonly seconds: number;
  readonly requests: number;
  readonly failures: number;
  readonly perSecond: number;
  readonly p50ms: number;
  readonly p99ms: number;
}

/** Runs `request` (resolving with its latency in ms) in `concurrency` loops for `seconds`. */
export async function measure(concurrency: number, seconds: number, request: () => Promise<number>): Promise<Measurement> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await loops(concurrency, async () => {
    try {
      latencies.push(await request());
    } catch {
      failures++;
    }
    return performance.now() < deadline;
  });
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    seconds: round(elapsed),
    requests: latencies.length,
    failures,
    perSecond: Math.round(latencies.length / elapsed),
    p50ms: round(percentile(latencies, 50)),
    p99ms: round(percentile(latencies, 99)),
  };
}

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export const round = (value: number): number => Math.round(value * 10) / 10;

export function exitOnError(run: () => Promise<void>): void {
  run().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
