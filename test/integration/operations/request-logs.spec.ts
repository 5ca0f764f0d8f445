import { randomUUID } from "node:crypto";
import { hmacHex } from "../../../src/webhooks/signature";
import { gql, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { startTestApp, TEST_MANAGEMENT_TOKEN, type TestApp } from "../../helpers/test-app";

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  req?: { method: string; path: string };
  res?: { status: number };
  durationMs?: number;
  eventId?: string;
  outcome?: string;
}

describe("request logs", () => {
  let t: TestApp;
  const logs: string[] = [];
  const parsed = () => logs.map((line) => JSON.parse(line) as LogLine);

  beforeAll(async () => {
    t = await startTestApp({}, { logs });
  });

  it("logs one info line per request, with method, path without query, status and duration, under its request id", async () => {
    const token = await signToken({ role: "admin" });
    const response = await fetch(`${t.url}/graphql?access_token=${token}&lat=48.8583`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-request-id": "req-graphql-1" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe("req-graphql-1");

    const lines = parsed().filter((line) => line.requestId === "req-graphql-1");
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, req: { method: "POST", path: "/graphql" }, res: { status: 200 }, durationMs: expect.any(Number) }),
    ]);
    const text = logs.join("\n");
    expect(text).not.toContain(token);
    expect(text).not.toContain("48.8583");
    expect(text).not.toContain("__typename");
  });

  it("makes a request id when none (or an unusable one) is given, and answers with it", async () => {
    const made = await fetch(`${t.url}/healthz`);
    const id = made.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const unusable = await fetch(`${t.url}/healthz`, { headers: { "x-request-id": "has spaces\tand\"quotes\"" } });
    expect(unusable.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(parsed().filter((line) => line.requestId === id)).toEqual([expect.objectContaining({ res: { status: 200 } })]);
    expect(logs.join("\n")).not.toContain("has spaces");
  });

  it("logs each webhook delivery with its event id and outcome at info, on the request's id, never its body or signature", async () => {
    const vehicleId = randomUUID();
    const delivery = vehicleState({
      vehicleId,
      signals: [{ code: "location-preciselocation", body: { latitude: 52.5200123, longitude: 13.4049456 }, oemUpdatedAt: Date.now() }],
    });
    const body = JSON.stringify(delivery);
    const signature = hmacHex(TEST_MANAGEMENT_TOKEN, body);
    for (const outcome of ["applied", "duplicate"]) {
      const requestId = `delivery-${outcome}`;
      const response = await fetch(`${t.url}/webhooks/smartcar`, {
        method: "POST",
        headers: { "content-type": "application/json", "sc-signature": signature, "x-request-id": requestId, cookie: "session=cookie-secret" },
        body,
      });
      expect(await response.json()).toMatchObject({ status: outcome });
      const lines = parsed().filter((line) => line.requestId === requestId);
      expect(lines).toEqual([
        expect.objectContaining({ level: 30, msg: "webhook delivery", eventId: delivery.eventId, outcome }),
        expect.objectContaining({ level: 30, req: { method: "POST", path: "/webhooks/smartcar" }, res: { status: 200 } }),
      ]);
    }
    const rejected = await postDelivery(t.url, { eventType: "VEHICLE_STATE", data: {} });
    expect(rejected.status).toBe(422);
    const rejectedId = rejected.headers.get("x-request-id");
    expect(parsed().filter((line) => line.requestId === rejectedId).map((line) => line.outcome ?? line.res?.status)).toEqual(["rejected", 422]);

    const text = logs.join("\n");
    for (const secret of [signature, "cookie-secret", "52.5200123", "13.4049456", vehicleId, TEST_MANAGEMENT_TOKEN]) {
      expect(text).not.toContain(secret);
    }
  });

  it("401s are logged too, without the Authorization header's value", async () => {
    const bad = `Bearer not-a-token-${randomUUID()}`;
    const result = await gql(t.url, "{ __typename }", { authorization: bad });
    expect(result.status).toBe(401);
    expect(parsed().some((line) => line.res?.status === 401 && line.req?.path === "/graphql")).toBe(true);
    expect(logs.join("\n")).not.toContain(bad.slice(7));
  });
  it("logs a 503 at warn, once, without the error pino-http makes up for every 5xx", async () => {
    const unconfigured = await startTestApp({ SMARTCAR_MANAGEMENT_TOKEN: undefined }, { logs });
    const response = await fetch(`${unconfigured.url}/webhooks/smartcar`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-503" },
      body: JSON.stringify({ eventType: "VERIFY", data: { challenge: "abc" } }),
    });
    expect(response.status).toBe(503);
    const line = parsed().find((entry) => entry.requestId === "req-503" && entry.res !== undefined) as (LogLine & { err?: unknown }) | undefined;
    expect(line).toEqual(expect.objectContaining({ level: 40, res: { status: 503 } }));
    expect(line?.err).toBeUndefined();
  });
});
