import { randomInt, randomUUID } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { hmacHex } from "../webhooks/signature";
import { baseUrlOption, defaultBaseUrl, parseOptions, type Command, type CommandIO } from "./command";
import { mintApiToken } from "../auth/token";
import { jwtSecretFrom, managementTokenFrom } from "./secrets";
import { attemptBody, deliveryStatus, postWebhook, verifyBody, type SmartcarEvent } from "./smartcar-webhook";

/** The probe: one vehicle of its own, so a check never touches a real vehicle's data. */
const PROBE_VEHICLE = {
  id: "fleetgraph-check-webhook",
  userId: "fleetgraph-check-webhook",
  make: "FLEETGRAPH",
  model: "check-webhook",
  year: 2026,
};
const PROBE_SIGNAL = { code: "odometer-traveleddistance", name: "TraveledDistance", group: "Odometer" };
const EVENT_TIMEOUT_MS = 10_000;

export const checkWebhookCommand: Command = {
  name: "check-webhook",
  summary: "self-test of a running instance: VERIFY, a signed delivery, its retry, the live event",
  help: `Usage: fleetgraph check-webhook [--url <base URL>] [--api-token <jwt>]

Checks a running instance end to end, printing each check, and exits 0 only when all pass:
  1. VERIFY is answered with the HMAC of the challenge under SMARTCAR_MANAGEMENT_TOKEN;
  2. a subscription (graphql-ws on <base URL>/graphql) to the probe vehicle is accepted;
  3. a signed sample delivery is applied;
  4. its Smartcar-style retry (same eventId, new deliveryId) is answered as a duplicate;
  5. the change arrives on the subscription.
The probe is its own vehicle, "${PROBE_VEHICLE.id}" (user "${PROBE_VEHICLE.userId}"): its odometer
reading is the only data a check adds.

Options:
  --url <base URL>     the service; default http://localhost:$PORT (4000)
  --api-token <jwt>    token for the subscription; default: an admin token minted with JWT_SECRET
  -h, --help           this text

Environment:
  SMARTCAR_MANAGEMENT_TOKEN  the service's token (unset: only a development service without one passes)
  JWT_SECRET                 the service's secret, to mint a 5-minute admin token (unless --api-token)

Example:
  SMARTCAR_MANAGEMENT_TOKEN=... JWT_SECRET=... npx fleetgraph check-webhook --url https://fleetgraph.example.com`,

  async run(argv, io) {
    const options = parseOptions(argv, { url: { type: "string" }, "api-token": { type: "string" } });
    if (options.help) {
      io.out(this.help);
      return 0;
    }
    const baseUrl = baseUrlOption(options.url, defaultBaseUrl(io.env));
    const managementToken = managementTokenFrom(io.env);
    const secret = jwtSecretFrom(io.env);
    const apiToken = options["api-token"] ?? (secret === undefined ? undefined : await mintApiToken(secret, { admin: true, ttlSeconds: 300 }));
    const checks = new CheckList(io);

    await checks.run("VERIFY answered for SMARTCAR_MANAGEMENT_TOKEN", () => checkVerify(baseUrl, managementToken));

    const live = connect(baseUrl, apiToken);
    try {
      const probeValue = randomInt(1, 1_000_000);
      let event: Promise<string> | undefined;
      const subscribed = await checks.run("subscription to signalUpdated accepted over graphql-ws", async () => {
        event = waitForProbe(live, probeValue);
        // A query on the same socket answers after the subscribe message was handled: the server listens.
        await roundTrip(live);
        return `${wsUrlOf(baseUrl)}${apiToken === undefined ? " (no token: an open development API)" : ""}`;
      });
      // Whatever the subscription said, report it before going on.
      void event?.catch(() => {});

      const probe: SmartcarEvent = {
        eventId: randomUUID(),
        eventType: "VEHICLE_STATE",
        vehicle: PROBE_VEHICLE,
        signals: [{ ...PROBE_SIGNAL, body: { value: probeValue, unit: "km" }, oemUpdatedAt: Date.now(), retrievedAt: Date.now() }],
        triggers: [PROBE_SIGNAL],
      };
      const applied = await checks.run("signed sample delivery applied", () => expectStatus(baseUrl, probe, managementToken, "applied"));
      await checks.run("its retry (same eventId, new deliveryId) reported as duplicate", () =>
        expectStatus(baseUrl, probe, managementToken, "duplicate"),
      );
      if (subscribed && applied && event) {
        await checks.run("the change arrived on the subscription", () => event!);
      } else {
        checks.skip("the change arrived on the subscription", "needs the subscription and the applied delivery");
      }
    } finally {
      await live.dispose();
    }
    return checks.failed === 0 ? 0 : 1;
  },
};

class CheckList {
  failed = 0;

  constructor(private readonly io: CommandIO) {}

  /** Runs one check; prints `ok` with what it saw, or `FAIL` with why. True when it passed. */
  async run(title: string, check: () => Promise<string>): Promise<boolean> {
    try {
      const detail = await check();
      this.io.out(`ok    ${title}${detail ? `: ${detail}` : ""}`);
      return true;
    } catch (error) {
      this.failed += 1;
      this.io.out(`FAIL  ${title}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }

  skip(title: string, reason: string): void {
    this.failed += 1;
    this.io.out(`FAIL  ${title}: not checked, ${reason}`);
  }
}

async function checkVerify(baseUrl: string, managementToken: string | undefined): Promise<string> {
  const challenge = randomUUID();
  const result = await postWebhook(baseUrl, verifyBody(challenge), managementToken);
  if (result.status === 0) throw new Error(`cannot reach ${baseUrl}/webhooks/smartcar: ${result.failure}`);
  const answer = (result.body as { challenge?: unknown } | undefined)?.challenge;
  if (managementToken === undefined) {
    if (result.status === 503) return "not configured on either side (development: unsigned deliveries accepted)";
    throw new Error("the service has a SMARTCAR_MANAGEMENT_TOKEN: set the same one here");
  }
  if (result.status !== 200) throw new Error(`HTTP ${result.status} ${JSON.stringify(result.body)}`);
  if (answer !== hmacHex(managementToken, challenge)) {
    throw new Error("the answer is not the HMAC of the challenge under this SMARTCAR_MANAGEMENT_TOKEN: the service runs with another token");
  }
  return "HMAC-SHA256 of the challenge matches";
}

async function expectStatus(baseUrl: string, event: SmartcarEvent, managementToken: string | undefined, expected: string): Promise<string> {
  const result = await postWebhook(baseUrl, attemptBody(event, Date.now()), managementToken);
  if (result.status === 0) throw new Error(`no answer: ${result.failure}`);
  const status = deliveryStatus(result);
  if (result.status !== 200 || status !== expected) throw new Error(`expected "${expected}", got HTTP ${result.status} ${JSON.stringify(result.body)}`);
  return `HTTP 200 {"status":"${status}"} in ${Math.round(result.milliseconds)} ms`;
}

interface LiveConnection {
  readonly client: Client;
  /** Rejects when the socket closes before the check is over (e.g. 4401 for a missing or bad token). */
  readonly closed: Promise<never>;
  dispose(): Promise<void>;
}

function wsUrlOf(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, "ws")}/graphql`;
}

function connect(baseUrl: string, apiToken: string | undefined): LiveConnection {
  let onClosed!: (error: Error) => void;
  const closed = new Promise<never>((_resolve, reject) => (onClosed = reject));
  closed.catch(() => {});
  const client = createClient({
    url: wsUrlOf(baseUrl),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: apiToken === undefined ? undefined : { Authorization: `Bearer ${apiToken}` },
    onNonLazyError: () => {},
    on: {
      closed: (event) => {
        const { code, reason } = event as { code?: number; reason?: string | Buffer };
        const hint = code === 4401 ? " (token missing or refused: set JWT_SECRET or --api-token)" : "";
        onClosed(new Error(`socket closed ${code ?? ""} ${String(reason ?? "")}${hint}`.replace(/\s+/g, " ").trim()));
      },
      error: (error) => onClosed(error instanceof Error ? error : new Error(`socket error: ${String((error as { message?: string })?.message ?? error)}`)),
    },
  });
  return { client, closed, dispose: () => client.dispose() as Promise<void> };
}

function roundTrip(live: LiveConnection): Promise<void> {
  const answered = new Promise<void>((resolve, reject) => {
    live.client.subscribe(
      { query: "{ __typename }" },
      { next: () => {}, error: (error) => reject(graphqlError(error)), complete: resolve },
    );
  });
  return Promise.race([answered, live.closed, timeout(EVENT_TIMEOUT_MS, "no answer on the socket")]);
}

function waitForProbe(live: LiveConnection, value: number): Promise<string> {
  const started = performance.now();
  const arrived = new Promise<string>((resolve, reject) => {
    const unsubscribe = live.client.subscribe<{ signalUpdated: { code: string; value: number | null } }>(
      {
        query: `subscription ($vehicleId: ID!, $codes: [String!]) { signalUpdated(vehicleId: $vehicleId, codes: $codes) { code value } }`,
        variables: { vehicleId: PROBE_VEHICLE.id, codes: [PROBE_SIGNAL.code] },
      },
      {
        next: (result) => {
          if (result.errors) reject(graphqlError(result.errors));
          else if (result.data?.signalUpdated.value === value) {
            unsubscribe();
            resolve(`${result.data.signalUpdated.code} = ${value} after ${Math.round(performance.now() - started)} ms`);
          }
        },
        error: (error) => reject(graphqlError(error)),
        complete: () => reject(new Error("the subscription ended without the event")),
      },
    );
  });
  return Promise.race([arrived, live.closed, timeout(EVENT_TIMEOUT_MS, `no event within ${EVENT_TIMEOUT_MS / 1000} s`)]);
}

function graphqlError(error: unknown): Error {
  if (Array.isArray(error)) return new Error(error.map((item: { message?: string }) => item.message ?? String(item)).join("; "));
  if (error instanceof Error) return error;
  const { code, reason } = (error ?? {}) as { code?: number; reason?: string };
  if (code !== undefined) return new Error(`socket closed ${code} ${reason ?? ""}`.trim());
  return new Error(String(error));
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_resolve, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}
