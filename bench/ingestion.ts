/**
 * Ingestion, fleetgraph against the bare receiver (bench/bare.ts) in the same run: both servers in
 * child processes over one scratch database, driven alternately by the same load (signed 10-signal
 * VEHICLE_STATE deliveries for VEHICLES vehicles, newer each time), medians of the rounds.
 *
 *   npm run bench:ingest                       # 50 clients, 3 rounds of 10 s, 1,000 vehicles, PostgreSQL
 *   BENCH_EMBEDDED=1 npm run bench:ingest      # fleetgraph on its embedded default (PGlite) instead
 *   BENCH_CLIENTS=50 BENCH_SECONDS=10 BENCH_ROUNDS=3 VEHICLES=1000 npm run bench:ingest
 *   BENCH_SMOKE=1 npm run bench:ingest         # seconds, for CI; appends nothing
 *
 * The scratch database lives on DATABASE_URL's server (default: the local PostgreSQL) and is
 * dropped afterwards, as are the servers, even on failure.
 */
import { Client } from "pg";
import {
  backendCpuSeconds,
  compare,
  exitOnError,
  knob,
  LOAD,
  postDelivery,
  ratio,
  report,
  scratchDatabase,
  startBare,
  startFleetgraph,
  vehicleStateBody,
  type Measurement,
} from "./support";

const VEHICLES = knob("VEHICLES", 1_000, 1_000);
const EMBEDDED = process.env.BENCH_EMBEDDED === "1";
const CODES = Array.from({ length: 10 }, (_, i) => `benchgroup-signal${i}`);

let clock = Date.parse("2026-01-01T00:00:00Z");

/** One delivery to `baseUrl`; resolves with its latency in ms. */
async function deliver(baseUrl: string): Promise<number> {
  const vehicle = Math.floor(Math.random() * VEHICLES);
  const signals = CODES.map((code) => ({ code, value: Math.round(Math.random() * 1000) / 10 }));
  const body = vehicleStateBody(`bench-vehicle-${vehicle}`, `user-${vehicle % 50}`, signals, (clock += 7));
  const started = performance.now();
  return (await postDelivery(baseUrl, body)) - started;
}

exitOnError(async () => {
  const database = await scratchDatabase();
  const fleetgraphName = EMBEDDED ? "fleetgraph (PGlite)" : "fleetgraph";
  const [fleetgraph, bare] = await Promise.all([startFleetgraph(EMBEDDED ? undefined : database.url, fleetgraphName), startBare(database.url)]);
  // The rounds alternate, so the scratch database's backends work for whichever server is measured
  // (PGlite runs inside fleetgraph's process: counted as the server's).
  const results = await compare(
    [fleetgraph, bare].map((server) => ({
      name: server.name,
      request: () => deliver(server.url),
      cpu: () => ({ server: server.cpuSeconds(), database: EMBEDDED && server === fleetgraph ? new Map() : backendCpuSeconds(database.name) }),
    })),
  );

  const stored = EMBEDDED ? undefined : await countEvents(database.url);
  if (stored) process.stderr.write(`fleetgraph stored ${stored.deliveries} deliveries (for profile-summary)\n`);

  const f = results.get(fleetgraph.name)!;
  const b = results.get(bare.name)!;
  const rss = (server: typeof fleetgraph) => `peak RSS ${server.peakRssMiB() ?? "?"} MiB`;
  const cpu = ({ cpuMs }: Measurement) =>
    cpuMs ? `; CPU ms a delivery: server ${cpuMs.server}, PostgreSQL ${cpuMs.database}, load generator ${cpuMs.load}` : "";
  report("ingest", `${LOAD.clients} clients, ${LOAD.rounds}x${LOAD.seconds} s, ${VEHICLES} vehicles`, [
    { measured: `${fleetgraph.name}, deliveries`, ...f, ratio: `${ratio(f.perSecond, b.perSecond)} bare${EMBEDDED ? " (on PostgreSQL)" : ""}`, notes: `${f.failures} failed; ${rss(fleetgraph)}${cpu(f)}${stored ? `; ${stored.perBatch} deliveries a transaction on average` : ""}` },
    { measured: "bare receiver, deliveries", ...b, notes: `${b.failures} failed; ${rss(bare)}${cpu(b)}` },
  ]);
});

/**
 * Deliveries fleetgraph stored, and how many went in one transaction on average: a batch stamps its
 * history with one instant (its vehicles' lock time), so distinct stamps count transactions.
 */
async function countEvents(url: string): Promise<{ deliveries: number; perBatch: number }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT (SELECT count(*) FROM webhook_events) AS n, (SELECT count(DISTINCT applied_at) FROM signal_readings) AS batches",
    );
    const deliveries = Number(rows[0].n);
    return { deliveries, perBatch: Math.round((10 * deliveries) / Math.max(1, Number(rows[0].batches))) / 10 };
  } finally {
    await client.end();
  }
}
