/**
 * Reads, fleetgraph against the bare reader (bench/bare.ts) and PostGraphile 4 over the same
 * tables in the same run: VEHICLES vehicles × 10 signals loaded once through fleetgraph's webhook,
 * then the same load alternately against each (medians of the rounds):
 *
 *   one vehicle's signals   fleetgraph `vehicle(id) { signals { code value } }` (admin JWT on every
 *                           request), bare `GET /vehicles/:id` (one primary-key SELECT), PostGraphile
 *                           `vehicleById(id) { signalsByVehicleId { nodes { code value } } }`
 *   100-vehicle page        fleetgraph `vehicles(first: 100)` with each one's signals, PostGraphile
 *                           `allVehicles(first: 100)` with `signalsByVehicleId` (both by id)
 *
 *   npm run bench:query                        # 50 clients, 3 rounds of 10 s, 500 vehicles
 *   BENCH_CLIENTS=50 BENCH_SECONDS=10 BENCH_ROUNDS=3 VEHICLES=500 npm run bench:query
 *   BENCH_SMOKE=1 npm run bench:query          # seconds, for CI; appends nothing
 *   BENCH_ONLY=one|page npm run bench:query    # one comparison alone (a profile of one query); appends nothing
 *
 * PostGraphile runs as its CLI does (`postgraphile -c <url> -s public --disable-query-log`), without
 * auth. Scratch database and servers are dropped and stopped afterwards, even on failure.
 */
import {
  adminJwt,
  backendCpuSeconds,
  compare,
  exitOnError,
  graphql,
  knob,
  LOAD,
  loops,
  type Measurement,
  postDelivery,
  ratio,
  report,
  round,
  scratchDatabase,
  startBare,
  startFleetgraph,
  startPostGraphile,
  type Target,
  vehicleStateBody,
} from "./support";

const VEHICLES = knob("VEHICLES", 500, 20);
const SIGNALS = 10;
const PAGE = Math.min(100, VEHICLES);
/** `one` or `page`: run that comparison alone (for a profile of one query shape); nothing is appended then. */
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== "one" && ONLY !== "page") throw new Error("BENCH_ONLY must be one or page");
const CODES = Array.from({ length: SIGNALS }, (_, i) => `benchgroup-signal${i}`);

const vehicleId = (index: number) => `bench-vehicle-${String(index).padStart(5, "0")}`;
const randomVehicle = () => vehicleId(Math.floor(Math.random() * VEHICLES));

/** Times `ask` and checks it got `expected` items back, so a broken answer cannot pass as fast. */
async function timed(ask: () => Promise<number>, expected: number): Promise<number> {
  const started = performance.now();
  const count = await ask();
  if (count !== expected) throw new Error(`expected ${expected} items, got ${count}`);
  return performance.now() - started;
}

type Nodes<T> = { nodes: T[] };
type Signals = Array<{ code: string; value: number }>;

exitOnError(async () => {
  const database = await scratchDatabase();
  const fleetgraph = await startFleetgraph(database.url);
  const jwt = await adminJwt();

  // Load: every vehicle once, through the real endpoint, before the others read the same tables.
  const loadStarted = performance.now();
  let next = 0;
  await loops(50, async () => {
    const index = next++;
    if (index >= VEHICLES) return false;
    const signals = CODES.map((code) => ({ code, value: Math.round(Math.random() * 1000) / 10 }));
    await postDelivery(fleetgraph.url, vehicleStateBody(vehicleId(index), `user-${index % 50}`, signals, Date.parse("2026-01-01T00:00:00Z") + index));
    return true;
  });
  const loadSeconds = round((performance.now() - loadStarted) / 1000);
  const [bare, postgraphile] = await Promise.all([startBare(database.url), startPostGraphile(database.url)]);
  // CPU per request of each server and of the scratch database's backends (the rounds alternate, so the
  // backends work for whichever server is measured): the figure that holds on a busy machine.
  const cpuOf = (server: { cpuSeconds(): number | undefined }) => () => ({ server: server.cpuSeconds(), database: backendCpuSeconds(database.name) });

  if (ONLY === "page") {
    await comparePage(fleetgraph.url, postgraphile.url, jwt, true, cpuOf(fleetgraph), cpuOf(postgraphile));
    return;
  }
  const one = await compare([
    {
      name: fleetgraph.name,
      cpu: cpuOf(fleetgraph),
      request: () =>
        timed(async () => {
          const query = "query($id: ID!) { vehicle(id: $id) { signals { code value } } }";
          const data = (await graphql(fleetgraph.url, query, { id: randomVehicle() }, jwt)) as { vehicle: { signals: Signals } };
          return data.vehicle.signals.length;
        }, SIGNALS),
    },
    {
      name: bare.name,
      cpu: cpuOf(bare),
      request: () =>
        timed(async () => {
          const response = await fetch(`${bare.url}/vehicles/${randomVehicle()}`);
          const body = (await response.json()) as { vehicle: { signals: Signals } };
          if (response.status !== 200) throw new Error(`HTTP ${response.status} ${JSON.stringify(body)}`);
          return body.vehicle.signals.length;
        }, SIGNALS),
    },
    {
      name: postgraphile.name,
      cpu: cpuOf(postgraphile),
      request: () =>
        timed(async () => {
          const query = "query($id: String!) { vehicleById(id: $id) { signalsByVehicleId { nodes { code value } } } }";
          const data = (await graphql(postgraphile.url, query, { id: randomVehicle() })) as { vehicleById: { signalsByVehicleId: Nodes<unknown> } };
          return data.vehicleById.signalsByVehicleId.nodes.length;
        }, SIGNALS),
    },
  ]);

  if (ONLY === "one") {
    for (const [name, m] of one) process.stdout.write(`${name}: ${m.perSecond}/s p50 ${m.p50ms} ms p99 ${m.p99ms} ms, ${m.failures} failed${cpuNote(m)}\n`);
    return;
  }
  const page = await comparePage(fleetgraph.url, postgraphile.url, jwt, false, cpuOf(fleetgraph), cpuOf(postgraphile));
  const [f, b, p] = [fleetgraph, bare, postgraphile].map((server) => one.get(server.name)!);
  const [fp, pp] = [fleetgraph.name, postgraphile.name].map((name) => page.get(name)!);
  const failed = (m: Measurement) => `${m.failures} failed${cpuNote(m)}`;
  report("query", `${LOAD.clients} clients, ${LOAD.rounds}x${LOAD.seconds} s, ${VEHICLES} vehicles x ${SIGNALS} signals (loaded in ${loadSeconds} s)`, [
    {
      measured: "fleetgraph, `vehicle(id) { signals { code value } }`",
      ...f,
      ratio: `${ratio(f.perSecond, p.perSecond)} PostGraphile, ${ratio(f.perSecond, b.perSecond)} bare`,
      notes: `${failed(f)}; admin JWT verified per request`,
    },
    { measured: "bare reader, `GET /vehicles/:id`", ...b, notes: failed(b) },
    { measured: "PostGraphile, `vehicleById { signalsByVehicleId { nodes { code value } } }`", ...p, notes: `${failed(p)}; no auth` },
    { measured: `fleetgraph, \`vehicles(first: ${PAGE})\` + signals`, ...fp, ratio: `${ratio(fp.perSecond, pp.perSecond)} PostGraphile`, notes: failed(fp) },
    { measured: `PostGraphile, \`allVehicles(first: ${PAGE})\` + signals`, ...pp, notes: failed(pp) },
  ]);
});

/** "; CPU ms per request: …" when the bench could count it (Linux). */
function cpuNote(m: Measurement): string {
  return m.cpuMs ? `; CPU ms per request: server ${m.cpuMs.server}, PostgreSQL ${m.cpuMs.database}` : "";
}

/** The 100-vehicle page, fleetgraph against PostGraphile; with `print`, prints the medians (BENCH_ONLY=page). */
async function comparePage(fleetgraphUrl: string, postgraphileUrl: string, jwt: string, print: boolean, fleetgraphCpu: Target["cpu"], postgraphileCpu: Target["cpu"]): Promise<Map<string, Measurement>> {
  const page = await compare([
    {
      name: "fleetgraph",
      cpu: fleetgraphCpu,
      request: () =>
        timed(async () => {
          const query = `{ vehicles(first: ${PAGE}) { edges { node { id signals { code value } } } } }`;
          const data = (await graphql(fleetgraphUrl, query, undefined, jwt)) as { vehicles: { edges: Array<{ node: { signals: Signals } }> } };
          return data.vehicles.edges.reduce((sum, edge) => sum + edge.node.signals.length, 0);
        }, PAGE * SIGNALS),
    },
    {
      name: "PostGraphile",
      cpu: postgraphileCpu,
      request: () =>
        timed(async () => {
          const query = `{ allVehicles(first: ${PAGE}, orderBy: PRIMARY_KEY_ASC) { nodes { id signalsByVehicleId { nodes { code value } } } } }`;
          const data = (await graphql(postgraphileUrl, query)) as { allVehicles: Nodes<{ signalsByVehicleId: Nodes<unknown> }> };
          return data.allVehicles.nodes.reduce((sum, node) => sum + node.signalsByVehicleId.nodes.length, 0);
        }, PAGE * SIGNALS),
    },
  ]);

  if (print) for (const [name, m] of page) process.stdout.write(`${name}: ${m.perSecond}/s p50 ${m.p50ms} ms p99 ${m.p99ms} ms, ${m.failures} failed${cpuNote(m)}\n`);
  return page;
}
