import { randomBytes, randomUUID } from "node:crypto";
import { hmacHex } from "../../../src/webhooks/signature";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTcpProxy } from "../../helpers/tcp-proxy";
import { startTestApp, testDatabase, TEST_MANAGEMENT_TOKEN, type TestApp } from "../../helpers/test-app";

const signal = { code: "tractionbattery-stateofcharge", body: { unit: "percent", value: 50 } };

describe("POST /webhooks/smartcar refusals", () => {
  let t: TestApp;
  const stored = async () => {
    const [row] = await t.app.dataSource.query<Array<{ events: number; rejections: number }>>(
      "SELECT (SELECT count(*)::int FROM webhook_events) AS events, (SELECT count(*)::int FROM webhook_rejections) AS rejections",
    );
    return row;
  };
  /** Runs `post` and asserts it stored nothing at all. */
  const storesNothing = async <T>(post: () => Promise<T>): Promise<T> => {
    const before = await stored();
    const result = await post();
    expect(await stored()).toEqual(before);
    return result;
  };

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_BODY_LIMIT: "4096" });
  });

  it("answers 415 to a body that is not JSON, storing nothing", async () => {
    const result = await storesNothing(() => postDelivery(t.url, vehicleState({ vehicleId: randomUUID(), signals: [signal] }), { contentType: "text/plain" }));
    expect(result.status).toBe(415);
    expect(result.body).toEqual({ error: { code: "UNSUPPORTED_MEDIA_TYPE", message: expect.any(String) } });
  });

  it("answers 413 to a body over WEBHOOK_BODY_LIMIT, storing nothing", async () => {
    const big = vehicleState({ vehicleId: randomUUID(), signals: [{ code: "x-big", body: { value: "x".repeat(5000) } }] });
    const result = await storesNothing(() => postDelivery(t.url, big));
    expect(result.status).toBe(413);
    expect(result.body).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
  });

  it.each([
    ["no SC-Signature", { token: null }],
    ["a wrong signature", { signature: "0".repeat(64) }],
    ["a short signature", { signature: "abc" }],
    ["a signature by another token", { token: "someone-elses-token" }],
  ])("answers 401 to a delivery with %s, storing nothing", async (_case, options) => {
    const result = await storesNothing(() => postDelivery(t.url, vehicleState({ vehicleId: randomUUID(), signals: [signal] }), options));
    expect(result.status).toBe(401);
    expect(result.body).toMatchObject({ error: { code: "INVALID_SIGNATURE" } });
  });

  it("refuses to sign an arbitrary unsigned challenge (it would forge SC-Signatures)", async () => {
    const forged = JSON.stringify(vehicleState({ vehicleId: randomUUID(), signals: [signal] }));
    const result = await storesNothing(() =>
      postDelivery(t.url, { eventType: "VERIFY", data: { challenge: forged } }, { token: null }),
    );
    expect(result.status).toBe(401);
    expect(JSON.stringify(result.body)).not.toContain(hmacHex(TEST_MANAGEMENT_TOKEN, forged));
  });

  it("answers 400 to signed malformed JSON, storing nothing", async () => {
    const result = await storesNothing(() => postDelivery(t.url, '{"eventId": "x", "eventType": '));
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ error: { code: "MALFORMED_JSON" } });
  });

  it("answers 422 naming the field to signed JSON of the wrong shape, and keeps it raw with the reason", async () => {
    const delivery = vehicleState({ vehicleId: randomUUID(), signals: [signal, signal] });
    delete ((delivery.data as { signals: Array<{ code?: string }> }).signals[1] as { code?: string }).code;
    const raw = JSON.stringify(delivery);
    const result = await postDelivery(t.url, raw);
    expect(result.status).toBe(422);
    expect(result.body).toMatchObject({ error: { code: "UNPROCESSABLE_ENTITY", message: expect.stringContaining("data.signals[1].code") } });
    const [rejection] = await t.app.dataSource.query<Array<{ event_id: string; reason: string; raw_body: Buffer }>>(
      "SELECT event_id, reason, raw_body FROM webhook_rejections WHERE event_id = $1",
      [delivery.eventId],
    );
    expect(rejection.reason).toContain("data.signals[1].code");
    expect(rejection.raw_body.toString()).toBe(raw);
  });

  it.each([
    ["an unknown eventType", { eventId: "e", eventType: "VEHICLE_EXPLODED", data: {} }, "eventType"],
    ["a JSON array", [1, 2], "body must be a JSON object"],
    ["a VEHICLE_STATE without a vehicle", { eventId: "e", eventType: "VEHICLE_STATE", data: { signals: [] } }, "data.vehicle.id"],
    ["a bad timestamp", vehicleState({ vehicleId: "v", signals: [{ ...signal, oemUpdatedAt: -5 }] }), "data.signals[0].meta.oemUpdatedAt"],
  ])("answers 422 to %s", async (_case, payload, field) => {
    const result = await postDelivery(t.url, payload);
    expect(result.status).toBe(422);
    expect((result.body as { error: { message: string } }).error.message).toContain(field);
  });

  // Random (incompressible) text longer than a B-tree index entry may be: an unchecked length made
  // PostgreSQL fail the insert, which was answered 500 and not kept.
  const tooLong = () => randomBytes(2300).toString("base64url");
  it.each([
    ["a top-level vehicleId", () => ({ eventId: randomUUID(), eventType: "VEHICLE_ERROR", vehicleId: tooLong(), errors: [{ type: "T", code: "C", state: "ERROR" }] }), "vehicleId"],
    ["a user id", () => vehicleState({ vehicleId: randomUUID(), userId: tooLong(), signals: [signal] }), "data.user.id"],
    ["an error type", () => vehicleError({ vehicleId: randomUUID(), errors: [{ type: tooLong(), code: "C", state: "ERROR", description: "d" }] }), "data.errors[0].type"],
    ["an error code", () => vehicleError({ vehicleId: randomUUID(), errors: [{ type: "T", code: tooLong(), state: "ERROR", description: "d" }] }), "data.errors[0].code"],
  ])("answers 422 to an overlong identifier (%s) and keeps it raw", async (_case, payload, field) => {
    const delivery = payload();
    const result = await postDelivery(t.url, delivery);
    expect(result.status).toBe(422);
    expect((result.body as { error: { message: string } }).error.message).toContain(field);
    const rows = await t.app.dataSource.query("SELECT 1 FROM webhook_rejections WHERE event_id = $1", [delivery.eventId]);
    expect(rows).toHaveLength(1);
  });

  // Each made PostgreSQL or the validators fail (a NUL in text or jsonb; a stack overflow): 500, not kept.
  const deepBody = (depth: number) => {
    const delivery = vehicleState({ vehicleId: randomUUID(), signals: [{ code: "x-deep", body: "DEEP" }] });
    return { delivery, raw: JSON.stringify(delivery).replace('"DEEP"', "[".repeat(depth) + "]".repeat(depth)) };
  };
  const asIs = (delivery: Record<string, unknown>) => ({ delivery, raw: JSON.stringify(delivery) });
  let deepApp: TestApp | undefined;
  it.each([
    ["a NUL character in a signal body", () => asIs(vehicleState({ vehicleId: randomUUID(), signals: [{ code: "x-text", body: { value: "a\u0000b" } }] })), "U+0000"],
    ["a NUL character in the make", () => asIs(vehicleState({ vehicleId: randomUUID(), make: "TESLA\u0000", signals: [signal] })), "U+0000"],
    ["a body nested 10,000 levels deep", () => deepBody(10_000), "deeper"],
  ])("answers 422 to %s and keeps it raw", async (_case, payload, reason) => {
    const { delivery, raw } = payload();
    // The deep body is 20 kB: past this file's WEBHOOK_BODY_LIMIT, within the default 1 MiB.
    const result = await postDelivery((deepApp ??= await startTestApp()).url, raw);
    expect(result.status).toBe(422);
    expect((result.body as { error: { message: string } }).error.message).toContain(reason);
    const rows = await t.app.dataSource.query("SELECT 1 FROM webhook_rejections WHERE event_id = $1", [delivery.eventId]);
    expect(rows).toHaveLength(1);
  });

  it("accepts a signature by any token during rotation and answers VERIFY with the first", async () => {
    const rotating = await startTestApp({ SMARTCAR_MANAGEMENT_TOKEN: `new-token,${TEST_MANAGEMENT_TOKEN}` });
    const delivery = vehicleState({ vehicleId: randomUUID(), signals: [signal] });
    expect((await postDelivery(rotating.url, delivery)).body).toMatchObject({ status: "applied" });
    expect((await postDelivery(rotating.url, delivery, { token: "new-token" })).body).toMatchObject({ status: "duplicate" });
    const verify = await postDelivery(rotating.url, { eventId: "v", eventType: "VERIFY", data: { challenge: "c-1" } });
    expect(verify.body).toEqual({ challenge: hmacHex("new-token", "c-1") });
  });

  it("accepts unsigned deliveries when no management token is configured (development)", async () => {
    const open = await startTestApp({ SMARTCAR_MANAGEMENT_TOKEN: undefined });
    const result = await postDelivery(open.url, vehicleState({ vehicleId: randomUUID(), signals: [signal] }), { token: null });
    expect(result.body).toMatchObject({ status: "applied" });
    // Without a token there is no key to answer VERIFY with: say so rather than answer wrongly.
    const verify = await postDelivery(open.url, { eventType: "VERIFY", data: { challenge: "c-1" } }, { token: null });
    expect(verify.status).toBe(503);
    expect(verify.body).toMatchObject({ error: { code: "NOT_CONFIGURED" } });
  });

  it("answers 503 in time for Smartcar's 15 s when the vehicle stays locked, and applies the retry later", async () => {
    // The lock wait ends at 5/8 of the apply timeout (5 s by default): shortened here to 1 s.
    const impatient = await startTestApp({ WEBHOOK_APPLY_TIMEOUT_MS: "1600" });
    const vehicleId = randomUUID();
    await postDelivery(t.url, vehicleState({ vehicleId, signals: [signal] }));
    const delivery = vehicleState({ vehicleId, signals: [signal] });
    const blocker = t.app.dataSource.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    try {
      await blocker.query("SELECT 1 FROM vehicles WHERE id = $1 FOR UPDATE", [vehicleId]);
      const started = Date.now();
      const blocked = await postDelivery(impatient.url, delivery);
      expect(blocked.status).toBe(503);
      expect(blocked.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(blocked.body).toMatchObject({ error: { code: "SERVICE_UNAVAILABLE" } });
    } finally {
      await blocker.rollbackTransaction();
      await blocker.release();
    }
    // On PostgreSQL the lock wait ended the refused attempt. The embedded database serves one session, so
    // there the attempt waited in its queue, past the deadline, and may have committed once the lock went:
    // either way the retry is answered 200 and the delivery is stored once.
    const retry = await postDelivery(t.url, delivery);
    const { embedded } = await testDatabase();
    expect(retry.body).toEqual({ status: embedded ? expect.stringMatching(/^(applied|duplicate)$/) : "applied", eventId: delivery.eventId });
    const [{ stored }] = await t.app.dataSource.query(`SELECT count(*)::int AS stored FROM webhook_events WHERE event_id = $1`, [delivery.eventId]);
    expect(stored).toBe(1);
  });

  it("answers 503 with Retry-After while the database is unreachable, and applies the retry once it is back", async () => {
    const proxy = await startTcpProxy((await testDatabase()).url);
    const app = await startTestApp({ DATABASE_URL: proxy.url });
    const delivery = vehicleState({ vehicleId: randomUUID(), signals: [signal] });
    try {
      await proxy.cut();
      const down = await postDelivery(app.url, delivery);
      expect(down.status).toBe(503);
      expect(down.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(down.body).toMatchObject({ error: { code: "SERVICE_UNAVAILABLE" } });

      await proxy.restore();
      expect((await postDelivery(app.url, delivery)).body).toEqual({ status: "applied", eventId: delivery.eventId });
    } finally {
      await app.stop();
      await proxy.close();
    }
  });
});
