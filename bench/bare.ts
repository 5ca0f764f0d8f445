/**
 * The baselines fleetgraph is measured against: what a hand-written service doing the least
 * possible work costs on the same machine and database. No checks, no auth, no framework.
 *
 *   POST /webhooks/smartcar  receiver: JSON.parse, then one `unnest` INSERT (autocommit) of the
 *                            delivery's signals into `bare_readings`, a table of its own
 *   GET  /vehicles/:id       reader: one SELECT by primary key from fleetgraph's `signals`, as JSON
 *
 * Started by the benches as a child process (`startBare`); prints "bare listening <url>".
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Pool } from "pg";

interface Delivery {
  eventId: string;
  data: {
    vehicle: { id: string };
    signals: Array<{ code: string; body: { value: number }; meta: { oemUpdatedAt: number } }>;
  };
}

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 }); // fleetgraph's pool size

async function receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const { eventId, data } = JSON.parse(Buffer.concat(chunks).toString()) as Delivery;
  await pool.query({
    name: "bare-receive",
    text: `INSERT INTO bare_readings (event_id, vehicle_id, code, value, body, observed_at)
     SELECT $1, $2, * FROM unnest($3::text[], $4::float8[], $5::jsonb[], $6::timestamptz[])`,
    values: [
      eventId,
      data.vehicle.id,
      data.signals.map((s) => s.code),
      data.signals.map((s) => s.body.value),
      data.signals.map((s) => JSON.stringify(s.body)),
      data.signals.map((s) => new Date(s.meta.oemUpdatedAt)),
    ],
  });
  send(response, 200, { status: "applied", eventId });
}

async function read(vehicleId: string, response: ServerResponse): Promise<void> {
  const { rows } = await pool.query({
    name: "bare-read",
    text: "SELECT code, value FROM signals WHERE vehicle_id = $1",
    values: [vehicleId],
  });
  send(response, 200, { vehicle: { id: vehicleId, signals: rows } });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function main(): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS bare_readings (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id text NOT NULL, vehicle_id text NOT NULL,
       code text NOT NULL, value double precision, body jsonb NOT NULL, observed_at timestamptz NOT NULL)`,
  );
  const server = createServer((request, response) => {
    const handled =
      request.method === "POST" && request.url === "/webhooks/smartcar"
        ? receive(request, response)
        : request.method === "GET" && request.url?.startsWith("/vehicles/")
          ? read(decodeURIComponent(request.url.slice("/vehicles/".length)), response)
          : Promise.resolve(send(response, 404, { error: { code: "NOT_FOUND", message: "no such route" } }));
    handled.catch((error: unknown) => send(response, 500, { error: { code: "INTERNAL", message: String(error) } }));
  });
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(`bare listening http://127.0.0.1:${port}\n`);
  });
  process.once("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    void pool.end().then(() => process.exit(0));
  });
}

void main();
