/**
 * Fleet queries over 10,000 vehicles: `vehicles(where: {signals})` and `orderBy: {signal}` against
 * the real service, the fleet inserted by SQL into the same tables (5 signals per vehicle, latest value
 * and one history row each, 100 users of 100 vehicles, 1 % handed over to a new owner whose values
 * are only in history). Each query runs alone, one request at a time (what one app user waits for),
 * answers checked; p50 and p99 of the HTTP round trip, JWT verification and `totalCount` included.
 *
 *   npm run bench:fleet                      # 10,000 vehicles, 200 requests per query
 *   VEHICLES=10000 REQUESTS=200 npm run bench:fleet
 *   BENCH_SMOKE=1 npm run bench:fleet        # 500 vehicles, 20 requests; appends nothing
 *
 * Scratch database and server are dropped and stopped afterwards, even on failure.
 */
import { SignJWT } from "jose";
import { Client } from "pg";
import { adminJwt, exitOnError, graphql, JWT_SECRET, knob, percentile, report, round, scratchDatabase, startFleetgraph, type ResultRow } from "./support";

const VEHICLES = knob("VEHICLES", 10_000, 500);
const REQUESTS = knob("REQUESTS", 200, 20);
const USERS = Math.max(1, Math.round(VEHICLES / 100));
/** Paris, Place de la Concorde; vehicles are spread over about ±50 km around it. */
const DEPOT = { latitude: 48.8656, longitude: 2.3212 };

const SOC = "tractionbattery-stateofcharge";

/** The whole fleet in a few set-based statements; deterministic, so every run filters the same rows. */
async function insertFleet(url: string): Promise<number> {
  const started = performance.now();
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO vehicles (id, make, model, year, user_id, first_seen_at, last_seen_at)
       SELECT 'fleet-' || lpad(i::text, 6, '0'), (ARRAY['TESLA', 'BYD', 'VOLKSWAGEN', 'RENAULT'])[1 + i % 4], 'Model', 2020 + i % 6,
              'user-' || (i % $2), now() - interval '30 days', now() - make_interval(secs => i)
         FROM generate_series(0, $1 - 1) AS i`,
      [VEHICLES, USERS],
    );
    // One value per signal: a state of charge, charging flag and status, an odometer and a location.
    await db.query(
      `CREATE TEMP TABLE fleet_values AS
       SELECT 'fleet-' || lpad(i::text, 6, '0') AS vehicle_id, 'user-' || (i % $2) AS owner, i, s.code, s.kind,
              s.value, s.value_boolean, s.value_text, s.latitude, s.longitude, s.body
         FROM generate_series(0, $1 - 1) AS i
         CROSS JOIN LATERAL (VALUES
           ('tractionbattery-stateofcharge', 'NUMBER', ((i * 37) % 101)::float8, NULL::boolean, NULL::text, NULL::float8, NULL::float8,
            jsonb_build_object('unit', 'percent', 'value', (i * 37) % 101)),
           ('charge-ischarging', 'BOOLEAN', NULL, i % 3 = 0, NULL, NULL, NULL, jsonb_build_object('value', i % 3 = 0)),
           ('charge-detailedchargingstatus', 'TEXT', NULL, NULL, (ARRAY['CHARGING', 'NOT_CHARGING', 'FULLY_CHARGED'])[1 + i % 3], NULL, NULL,
            jsonb_build_object('value', (ARRAY['CHARGING', 'NOT_CHARGING', 'FULLY_CHARGED'])[1 + i % 3])),
           ('odometer-traveleddistance', 'NUMBER', (i * 7919 % 200000)::float8, NULL, NULL, NULL, NULL,
            jsonb_build_object('unit', 'km', 'value', i * 7919 % 200000)),
           ('location-preciselocation', 'LOCATION', NULL, NULL, NULL,
            $3 + ((i * 7901) % 1000 - 500) / 1100.0, $4 + ((i * 6007) % 1000 - 500) / 730.0,
            jsonb_build_object('latitude', $3 + ((i * 7901) % 1000 - 500) / 1100.0, 'longitude', $4 + ((i * 6007) % 1000 - 500) / 730.0))
         ) AS s(code, kind, value, value_boolean, value_text, latitude, longitude, body)`,
      [VEHICLES, USERS, DEPOT.latitude, DEPOT.longitude],
    );
    // 1 % handed over: the latest values stay the previous owner's; the new owner has history only.
    const userOf = `CASE WHEN i % 100 = 99 THEN 'previous-owner' ELSE owner END`;
    await db.query(
      `INSERT INTO signals (vehicle_id, code, name, group_name, body, value, unit, kind, value_boolean, value_text, latitude, longitude,
                            retrieved_at, oem_updated_at, applied_at, observed_at, last_read_at, event_id, user_id)
       SELECT vehicle_id, code, code, split_part(code, '-', 1), body, value, NULL, kind, value_boolean, value_text, latitude, longitude,
              now() - interval '1 hour', now() - interval '1 hour', now(), now() - interval '1 hour', now(), 'event-' || i, ${userOf}
         FROM fleet_values`,
    );
    await db.query(
      `INSERT INTO signal_readings (vehicle_id, code, name, group_name, body, value, unit, kind, value_boolean, value_text, latitude, longitude,
                                   retrieved_at, oem_updated_at, applied_at, observed_at, late, event_id, user_id)
       SELECT vehicle_id, code, code, split_part(code, '-', 1), body, value, NULL, kind, value_boolean, value_text, latitude, longitude,
              now() - interval '2 hours', now() - interval '2 hours', now(), now() - interval '2 hours', i % 100 = 99, 'event-old-' || i, owner
         FROM fleet_values`,
    );
    await db.query("ANALYZE");
  } finally {
    await db.end();
  }
  return (performance.now() - started) / 1000;
}

interface Page {
  vehicles: { totalCount: number; edges: Array<{ node: { id: string } }> };
}

interface FleetQuery {
  readonly measured: string;
  readonly variables: object;
  readonly user?: string;
}

const PAGE = `query ($where: VehicleWhere, $orderBy: VehicleOrder) {
  vehicles(first: 20, where: $where, orderBy: $orderBy) {
    totalCount
    edges { node { id make signal(code: "${SOC}") { number observedAt } } }
  }
}`;

const QUERIES: FleetQuery[] = [
  { measured: "no condition, by id (the same page without fleet queries, for reference)", variables: {} },
  {
    measured: "below 20 % and not charging",
    variables: { where: { signals: [{ code: SOC, lt: 20 }, { code: "charge-ischarging", equals: false }] } },
  },
  {
    measured: "within 10 km of the depot, below 50 %",
    variables: { where: { signals: [{ code: "location-preciselocation", near: { ...DEPOT, radiusMeters: 10_000 } }, { code: SOC, lt: 50 }] } },
  },
  {
    measured: "CHARGING, lowest charge first",
    variables: { where: { signals: [{ code: "charge-detailedchargingstatus", equals: "CHARGING" }] }, orderBy: { signal: SOC, direction: "ASC" } },
  },
  { measured: "whole fleet, lowest charge first", variables: { orderBy: { signal: SOC, direction: "ASC" } } },
  {
    measured: "one user's fleet: below 50 % within 20 km",
    user: "user-1",
    variables: { where: { signals: [{ code: SOC, lt: 50 }, { code: "location-preciselocation", near: { ...DEPOT, radiusMeters: 20_000 } }] } },
  },
];

exitOnError(async () => {
  const database = await scratchDatabase();
  const fleetgraph = await startFleetgraph(database.url);
  const loadSeconds = await insertFleet(database.url);
  const admin = await adminJwt();
  const rows: ResultRow[] = [];
  for (const query of QUERIES) {
    const jwt = query.user
      ? await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(query.user).setExpirationTime("2h").sign(new TextEncoder().encode(JWT_SECRET))
      : admin;
    const ask = async () => (await graphql(fleetgraph.url, PAGE, query.variables, jwt)) as unknown as Page;
    const first = await ask();
    if (first.vehicles.edges.length === 0) throw new Error(`${query.measured}: no vehicle matched`);
    for (let i = 0; i < Math.min(10, REQUESTS); i++) await ask(); // warm-up: plans and connections
    const latencies: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      const page = await ask();
      latencies.push(performance.now() - started);
      if (page.vehicles.totalCount !== first.vehicles.totalCount) throw new Error(`${query.measured}: the answer changed`);
    }
    latencies.sort((a, b) => a - b);
    rows.push({
      measured: `fleetgraph, \`vehicles(first: 20, where/orderBy)\`: ${query.measured}`,
      p50ms: round(percentile(latencies, 50)),
      p99ms: round(percentile(latencies, 99)),
      notes: `${first.vehicles.totalCount} of ${VEHICLES} match; ${query.user ? "user token" : "admin token"}`,
    });
  }
  report("fleet", `1 client, ${REQUESTS} requests each, ${VEHICLES} vehicles x 5 signals inserted by SQL in ${round(loadSeconds)} s`, rows);
});
