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
import { listeningUrl, runMain } from "../test/helpers/main-process";
import {
  adminJwt,
  exitOnError,
  JWT_SECRET,
  loops,
  MANAGEMENT_TOKEN,
  measure,
  postDelivery,
  round,
  scratchDatabase,
  vehicleStateBody,
} from "./support";

const CLIENTS = Number(process.env.CLIENTS ?? 50);
const SECONDS = Number(process.env.SECONDS ?? 15);
const VEHICLES = Number(process.env.VEHICLES ?? 1000);
const SIGNALS = 10;
const CODES = Array.from({ length: SIGNALS }, (_, i) => `benchgroup-signal${i}`);

const vehicleId = (index: number) => `bench-vehicle-${String(index).padStart(5, "0")}`;

interface Scenario {
  name: string;
  query: string;
  variables: () => Record<string, unknown>;
}

exitOnError(async () => {
  const database = await scratchDatabase();
  const server = runMain({
    DATABASE_URL: database.url,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info", // listeningUrl waits for the info line "fleetgraph listening"
    SMARTCAR_MANAGEMENT_TOKEN: MANAGEMENT_TOKEN,
    JWT_SECRET,
    // One token from one address at thousands of requests a second: the rate limits would measure themselves.
    GRAPHQL_RATE_LIMIT: "0",
    GRAPHQL_IP_RATE_LIMIT: "0",
  });
  try {
    const base = await listeningUrl(server);
    const jwt = await adminJwt();

    // Load: every vehicle once, through the real endpoint.
    const loadStarted = performance.now();
    let nextVehicle = 0;
    await loops(50, async () => {
      const index = nextVehicle++;
      if (index >= VEHICLES) return false;
      const signals = CODES.map((code) => ({ code, value: Math.round(Math.random() * 1000) / 10 }));
      await postDelivery(base, vehicleStateBody(vehicleId(index), `user-${index % 50}`, signals, Date.parse("2026-01-01T00:00:00Z") + index));
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

      const m = await measure(CLIENTS, SECONDS, ask);
      results.push({
        query: scenario.name,
        clients: CLIENTS,
        seconds: m.seconds,
        requests: m.requests,
        failures: m.failures,
        queriesPerSecond: m.perSecond,
        p50ms: m.p50ms,
        p99ms: m.p99ms,
      });
    }
    const summary = { vehicles: VEHICLES, signalsPerVehicle: SIGNALS, loadSeconds: round(loadSeconds), results };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
    await database.drop();
  }
});
