import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { hmacHex } from "../../../src/webhooks/signature";
import { postDelivery, vehicleState } from "../../helpers/smartcar";
import { routeAnswer } from "../../helpers/route-answers";
import { startTestApp, TEST_MANAGEMENT_TOKEN, type TestApp } from "../../helpers/test-app";

const signal = { code: "tractionbattery-stateofcharge", body: { unit: "percent", value: 50 } };
const contractError = { error: { code: expect.any(String), message: expect.any(String) } };

/** The HTTP surface around the two endpoints: methods, unknown paths, content encodings, headers. */
describe("HTTP answers are the contract's JSON", () => {
  let t: TestApp;
  const storedEvents = async () =>
    (await t.app.dataSource.query<Array<{ n: number }>>("SELECT (SELECT count(*) FROM webhook_events) + (SELECT count(*) FROM webhook_rejections) AS n"))[0].n;

  beforeAll(async () => {
    t = await startTestApp();
  });

  it.each(["GET", "PUT", "DELETE", "PATCH"])("answers %s /webhooks/smartcar with 405, Allow: POST and a JSON error", async (method) => {
    const response = await fetch(`${t.url}/webhooks/smartcar`, { method, headers: { "content-type": "application/json" }, body: method === "GET" ? undefined : "{}" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await response.json()).toEqual({ error: { code: "METHOD_NOT_ALLOWED", message: expect.stringContaining("POST") } });
  });

  it.each([
    ["GET", "/nothing-here"],
    ["POST", "/webhooks/smartcar/extra"],
    ["GET", "/webhooks"],
  ])("answers %s %s (unknown) with 404 and a JSON error", async (method, path) => {
    const response = await fetch(`${t.url}${path}`, { method });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ error: { code: "NOT_FOUND", message: expect.any(String) } });
  });

  it("names the missing field when a signed delivery is {}", async () => {
    const result = await postDelivery(t.url, {});
    expect(result.status).toBe(422);
    expect((result.body as { error: { message: string } }).error.message).toMatch(/^eventId is required/);
  });

  describe("Content-Encoding on /webhooks/smartcar", () => {
    const delivery = () => JSON.stringify(vehicleState({ vehicleId: randomUUID(), signals: [signal] }));
    const post = (body: Buffer | string, encoding: string, signedOver: Buffer | string = body) =>
      fetch(`${t.url}/webhooks/smartcar`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": encoding, "sc-signature": hmacHex(TEST_MANAGEMENT_TOKEN, signedOver) },
        body,
      });

    it.each(["gzip", "deflate", "br", "x-unknown", "gzip, identity"])("answers 415 to a plain body labelled %s, storing nothing", async (encoding) => {
      const before = await storedEvents();
      const response = await post(delivery(), encoding);
      expect(response.status).toBe(415);
      expect(await response.json()).toEqual({ error: { code: "UNSUPPORTED_MEDIA_TYPE", message: expect.stringContaining("Content-Encoding") } });
      expect(await storedEvents()).toBe(before);
    });

    it.each([
      ["the raw (compressed) bytes", (_plain: string, gzipped: Buffer) => gzipped],
      ["the inflated bytes", (plain: string) => plain],
    ])("answers 415 to a really gzipped delivery signed over %s: never HMAC-checked after inflating", async (_case, signedOver) => {
      const plain = delivery();
      const gzipped = gzipSync(plain);
      const before = await storedEvents();
      const response = await post(gzipped, "gzip", signedOver(plain, gzipped));
      expect(response.status).toBe(415);
      expect(await storedEvents()).toBe(before);
    });

    it("accepts Content-Encoding: identity", async () => {
      const response = await post(delivery(), "identity");
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: "applied" });
    });
  });

  describe("Content-Encoding on /graphql", () => {
    const query = JSON.stringify({ query: "{ __typename }" });
    const post = (body: Buffer | string, encoding: string) =>
      fetch(`${t.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": encoding }, body });

    it.each(["gzip", "deflate", "br"])("answers 400 (not 500) to a plain body labelled %s", async (encoding) => {
      const response = await post(query, encoding);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual(contractError);
    });

    it("answers 415 to an unknown Content-Encoding", async () => {
      const response = await post(query, "x-unknown");
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ error: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    });

    it("inflates a really gzipped request", async () => {
      const response = await post(gzipSync(query), "gzip");
      expect(response.status).toBe(401); // the request was read: it is refused for its missing token
    });

    it("answers 413 to a gzip bomb: the limit is on the inflated size", async () => {
      const bomb = gzipSync(JSON.stringify({ query: "{ __typename }", padding: "x".repeat(20 * 1024 * 1024) }));
      expect(bomb.length).toBeLessThan(100_000);
      const response = await post(bomb, "gzip");
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    });
  });
});

describe("security headers", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ JWT_SECRET: undefined }); // the open development API, so GET /graphql answers
  });

  const expectApiHeaders = (headers: Headers) => {
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("referrer-policy")).toBe("no-referrer");
    expect(headers.get("x-frame-options")).toBe("DENY");
    expect(headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
    expect(headers.get("cross-origin-resource-policy")).toBe("same-origin");
    const csp = headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(headers.get("x-powered-by")).toBeNull();
  };

  it.each([
    ["POST /webhooks/smartcar (applied)", () => postDelivery(t.url, vehicleState({ vehicleId: randomUUID(), signals: [signal] })).then((r) => ({ status: r.status, headers: r.headers }))],
    ["POST /webhooks/smartcar (401)", () => postDelivery(t.url, vehicleState({ vehicleId: randomUUID(), signals: [signal] }), { token: null })],
    ["GET /webhooks/smartcar (405)", () => fetch(`${t.url}/webhooks/smartcar`)],
    ["GET /healthz", () => fetch(`${t.url}/healthz`)],
    ["GET /unknown (404)", () => fetch(`${t.url}/unknown`)],
    ["POST /graphql", () => fetch(`${t.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) })],
    ["GET /graphql as JSON", () => fetch(`${t.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, { headers: { accept: "application/json", "apollo-require-preflight": "1" } })],
  ])("on %s", async (_case, request) => {
    const response = await request();
    expect(response.status).toBeLessThan(500);
    expectApiHeaders(response.headers);
  });

  it("GET /graphql in a browser still serves Apollo's landing page, under its own CSP", async () => {
    const response = await fetch(`${t.url}/graphql`, { headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    // The page loads its scripts from Apollo's CDN with a nonce, under the CSP of its <meta> tag; a
    // CSP header would be enforced as well and block it, so this page alone gets none.
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="script-src 'self' 'nonce-/);
    expect(html).toContain("https://embeddable-sandbox.cdn.apollographql.com");
    expect(response.headers.get("content-security-policy")).toBeNull();
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });
});

/**
 * Plain deliveries are answered on node:http before express (webhookFastPath); every other request to
 * the path goes through express's route. A Content-Type with an extra parameter takes the express route:
 * both must answer alike, with the same headers and request log lines.
 */
describe("POST /webhooks/smartcar answers alike on both routes", () => {
  let t: TestApp;
  const logs: string[] = [];
  const routes = { "fast path": "application/json", express: "application/json; charset=utf-8; x-route=express" };

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_BODY_LIMIT: "4096" }, { logs });
  });

  const cases: Array<[string, (contentType: string) => Promise<Response>]> = [
    ["applied", (contentType) => send(contentType, JSON.stringify(vehicleState({ vehicleId: randomUUID(), signals: [signal] })))],
    ["bad signature", (contentType) => send(contentType, JSON.stringify(vehicleState({ vehicleId: randomUUID(), signals: [signal] })), "0".repeat(64))],
    ["malformed JSON", (contentType) => send(contentType, "{not json")],
    ["wrong shape", (contentType) => send(contentType, JSON.stringify({ eventType: "VEHICLE_STATE", data: {} }))],
    ["over the body limit", (contentType) => send(contentType, JSON.stringify({ padding: "x".repeat(5000) }))],
  ];
  const send = (contentType: string, body: string, signature = hmacHex(TEST_MANAGEMENT_TOKEN, body)) =>
    fetch(`${t.url}/webhooks/smartcar`, { method: "POST", headers: { "content-type": contentType, "sc-signature": signature, "x-request-id": randomUUID() }, body });

  it.each(cases)("%s", async (_case, request) => {
    const answers = [];
    for (const contentType of Object.values(routes)) {
      const response = await request(contentType);
      const body = (await response.json()) as Record<string, unknown>;
      answers.push({ ...routeAnswer(response, logs), body: Object.keys(body).sort(), code: (body.error as { code?: string } | undefined)?.code ?? body.status });
    }
    expect(answers[0].status).toBeLessThan(500);
    expect(answers[0].logged.length).toBeGreaterThan(0);
    expect(answers[1]).toEqual(answers[0]);
  });
});
