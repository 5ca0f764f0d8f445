import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { hmacHex } from "../../src/webhooks/signature";
import { postDelivery, vehicleState } from "../helpers/smartcar";
import { startTestApp, TEST_MANAGEMENT_TOKEN, type TestApp } from "../helpers/test-app";

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
