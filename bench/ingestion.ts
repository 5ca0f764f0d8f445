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
import { listeningUrl, runMain } from "../test/helpers/main-process";
import { exitOnError, MANAGEMENT_TOKEN, measure, postDelivery, scratchDatabase, vehicleStateBody } from "./support";

const SENDERS = Number(process.env.SENDERS ?? 50);
const SECONDS = Number(process.env.SECONDS ?? 20);
const VEHICLES = Number(process.env.VEHICLES ?? 500);
const CODES = Array.from({ length: 10 }, (_, i) => `benchgroup-signal${i}`);

exitOnError(async () => {
  const database = await scratchDatabase();
  // LOG_LEVEL info: listeningUrl waits for the "fleetgraph listening" line.
  const server = runMain({ DATABASE_URL: database.url, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", SMARTCAR_MANAGEMENT_TOKEN: MANAGEMENT_TOKEN });
  try {
    const base = await listeningUrl(server);
    let clock = Date.parse("2026-01-01T00:00:00Z");
    const send = async (): Promise<number> => {
      const vehicle = Math.floor(Math.random() * VEHICLES);
      const signals = CODES.map((code) => ({ code, value: Math.round(Math.random() * 1000) / 10 }));
      const body = vehicleStateBody(`bench-vehicle-${vehicle}`, `user-${vehicle % 50}`, signals, (clock += 7));
      const started = performance.now();
      return (await postDelivery(base, body)) - started;
    };
    // Warm-up: connections, JIT, the vehicles' first rows.
    for (let i = 0; i < 200; i++) await send();

    const m = await measure(SENDERS, SECONDS, send);
    const result = {
      senders: SENDERS,
      signalsPerDelivery: CODES.length,
      vehicles: VEHICLES,
      seconds: m.seconds,
      deliveries: m.requests,
      failures: m.failures,
      deliveriesPerSecond: m.perSecond,
      p50ms: m.p50ms,
      p99ms: m.p99ms,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
    await database.drop();
  }
});
