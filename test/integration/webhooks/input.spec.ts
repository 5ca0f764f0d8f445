import { randomUUID } from "node:crypto";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

/** A fresh signal each time: some tests mutate the delivery's body in place. */
const signal = () => ({ code: "tractionbattery-stateofcharge", body: { unit: "percent", value: 50 } });
const LONE_HIGH = "\ud800";
const LONE_LOW = "\udc00";

/**
 * Input PostgreSQL cannot store as sent (NUL in text, unpaired surrogates in jsonb, times outside
 * timestamptz, integers outside int4) made signed deliveries a 500 that was kept nowhere. Each is
 * now applied (free text, with U+FFFD for an unpaired surrogate) or answered 422 naming the field
 * (identifiers, times, numbers), and a 422 is always kept raw.
 */
describe("signed deliveries PostgreSQL cannot store as sent", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });

  const liveRows = async (eventId: string) =>
    (
      await t.app.dataSource.query<Array<{ n: number }>>(
        `SELECT ((SELECT count(*) FROM webhook_events WHERE event_id = $1) + (SELECT count(*) FROM signal_readings WHERE event_id = $1)
              + (SELECT count(*) FROM vehicle_issues WHERE event_id = $1) + (SELECT count(*) FROM signal_errors WHERE event_id = $1))::int AS n`,
        [eventId],
      )
    )[0].n;
  const rejectionsOf = (raw: string) =>
    t.app.dataSource.query<Array<{ event_id: string | null; event_type: string | null; reason: string }>>(
      "SELECT event_id, event_type, reason FROM webhook_rejections WHERE raw_body = $1",
      [Buffer.from(raw)],
    );

  /** Posts `raw`, expects a 422 naming `field`, the raw bytes kept in webhook_rejections and nothing applied. */
  async function expectRejectedAndKept(raw: string, field: string, eventId?: string) {
    const result = await postDelivery(t.url, raw);
    expect(result.status).toBe(422);
    const message = (result.body as { error: { message: string } }).error.message;
    expect(message).toContain(field);
    const rejections = await rejectionsOf(raw);
    expect(rejections).toHaveLength(1);
    expect(rejections[0].reason).toBe(message);
    if (eventId !== undefined) expect(await liveRows(eventId)).toBe(0);
    return rejections[0];
  }

  describe("NUL and unpaired surrogates in identifiers: 422 naming the field, kept raw", () => {
    it.each([
      ["eventId with NUL", (d: Record<string, unknown>) => ({ ...d, eventId: `${d.eventId}\u0000` }), "eventId"],
      ["eventType with NUL", (d: Record<string, unknown>) => ({ ...d, eventType: "VEHICLE_STATE\u0000" }), "eventType"],
      ["eventId with a lone surrogate", (d: Record<string, unknown>) => ({ ...d, eventId: `${d.eventId}${LONE_HIGH}` }), "eventId"],
      ["vehicle id with a lone surrogate", (d: Record<string, unknown>) => withPath(d, ["data", "vehicle", "id"], `v${LONE_LOW}`), "data.vehicle.id"],
      ["user id with a lone surrogate", (d: Record<string, unknown>) => withPath(d, ["data", "user", "id"], `u${LONE_HIGH}`), "data.user.id"],
      ["signal code with a lone surrogate", (d: Record<string, unknown>) => withPath(d, ["data", "signals", 0, "code"], `x-${LONE_HIGH}`), "data.signals[0].code"],
      ["NUL in a signal body", (d: Record<string, unknown>) => withPath(d, ["data", "signals", 0, "body", "unit"], "per\u0000cent"), "data.signals[0].body.unit"],
      ["NUL in a key of a signal body", (d: Record<string, unknown>) => withPath(d, ["data", "signals", 0, "body"], { "a\u0000b": 1 }), "data.signals[0].body"],
    ])("%s", async (_case, mutate, field) => {
      const delivery = mutate(vehicleState({ vehicleId: randomUUID(), signals: [signal()] }));
      const rejection = await expectRejectedAndKept(JSON.stringify(delivery), field);
      // The labels of the rejection are storable text; the raw body keeps the exact bytes.
      expect(rejection.event_id ?? "").not.toContain("\u0000");
      expect(rejection.event_type ?? "").not.toContain("\u0000");
    });

    it("an error's signal reference with a lone surrogate (errors[].signals[])", async () => {
      const delivery = vehicleError({ vehicleId: randomUUID(), errors: [{ type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", state: "ERROR", signals: [`closure-${LONE_HIGH}`] }] });
      await expectRejectedAndKept(JSON.stringify(delivery), "data.errors[0].signals[0]", delivery.eventId as string);
    });

    it("an error's signal reference written as a string with a lone surrogate", async () => {
      const delivery = vehicleError({ vehicleId: randomUUID(), errors: [{ type: "PERMISSION", code: null, state: "ERROR" }] });
      withPath(delivery, ["data", "errors", 0, "signals"], [`Closure.IsLocked${LONE_LOW}`]);
      await expectRejectedAndKept(JSON.stringify(delivery), "data.errors[0].signals[0]", delivery.eventId as string);
    });
  });

  describe("unpaired surrogates in free text and bodies: applied, stored with U+FFFD", () => {
    it("in a signal body's value and key, the make and a signal's name", async () => {
      const vehicleId = randomUUID();
      const delivery = vehicleState({
        vehicleId,
        make: `TESLA${LONE_HIGH}`,
        signals: [{ code: "x-text", name: `Name${LONE_LOW}`, body: { value: `a${LONE_HIGH}b`, [`k${LONE_LOW}`]: [LONE_LOW, "ok 😀"] } }],
      });
      const result = await postDelivery(t.url, delivery);
      expect(result).toMatchObject({ status: 200, body: { status: "applied" } });
      const [stored] = await t.app.dataSource.query<Array<{ body: unknown; name: string; make: string }>>(
        "SELECT s.body, s.name, v.make FROM signals s JOIN vehicles v ON v.id = s.vehicle_id WHERE s.vehicle_id = $1",
        [vehicleId],
      );
      expect(stored).toEqual({ body: { value: "a\ufffdb", "k\ufffd": ["\ufffd", "ok 😀"] }, name: "Name\ufffd", make: "TESLA\ufffd" });
    });

    it("in an error's description", async () => {
      const vehicleId = randomUUID();
      const delivery = vehicleError({ vehicleId, errors: [{ type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", state: "ERROR", description: `cut${LONE_HIGH}`, signals: ["closure-islocked"] }] });
      expect(await postDelivery(t.url, delivery)).toMatchObject({ status: 200, body: { status: "applied" } });
      const [issue] = await t.app.dataSource.query("SELECT description, signal_codes FROM vehicle_issues WHERE vehicle_id = $1", [vehicleId]);
      expect(issue).toEqual({ description: "cut\ufffd", signal_codes: ["closure-islocked"] });
    });

    it("a raw body that is not valid UTF-8 is decoded with U+FFFD and applied, and kept byte for byte", async () => {
      const vehicleId = randomUUID();
      const delivery = vehicleState({ vehicleId, signals: [{ code: "x-text", body: { value: "@@" } }] });
      const raw = Buffer.from(JSON.stringify(delivery).replace("@@", "\u0001\u0001"));
      raw.set([0xed, 0xa0], raw.indexOf(1)); // a CESU-8 surrogate half: invalid UTF-8
      expect(await postDelivery(t.url, raw)).toMatchObject({ status: 200, body: { status: "applied" } });
      const [event] = await t.app.dataSource.query<Array<{ raw_body: Buffer }>>("SELECT raw_body FROM webhook_events WHERE event_id = $1", [delivery.eventId]);
      expect(event.raw_body.equals(raw)).toBe(true);
    });
  });

  describe("times PostgreSQL's timestamptz cannot hold: 422 naming the field", () => {
    const at = (meta: Record<string, unknown>) => {
      const delivery = vehicleState({ vehicleId: randomUUID(), signals: [signal()] });
      withPath(delivery, ["data", "signals", 0, "meta"], meta);
      return delivery;
    };
    it.each([
      ["meta.deliveredAt in year 0", () => withPath(vehicleState({ vehicleId: randomUUID(), signals: [signal()] }), ["meta", "deliveredAt"], "0000-06-01T00:00:00Z"), "meta.deliveredAt"],
      ["meta.deliveredAt before year 0", () => withPath(vehicleState({ vehicleId: randomUUID(), signals: [signal()] }), ["meta", "deliveredAt"], "-000100-01-01T00:00:00Z"), "meta.deliveredAt"],
      ["an oemUpdatedAt in year 0", () => at({ oemUpdatedAt: "0000-12-31T23:59:59Z" }), "data.signals[0].meta.oemUpdatedAt"],
      ["an oemUpdatedAt that is year 0 in UTC only", () => at({ oemUpdatedAt: "0001-01-01T00:30:00+01:00" }), "data.signals[0].meta.oemUpdatedAt"],
      ["a retrievedAt before year 0", () => at({ retrievedAt: "-271821-04-20T00:00:00Z" }), "data.signals[0].meta.retrievedAt"],
      ["a fetchedAt in year 0", () => at({ fetchedAt: "0000-01-01T00:00:00Z" }), "data.signals[0].meta.fetchedAt"],
      ["a retrievedAt past year 9999", () => at({ retrievedAt: "+275760-09-13T00:00:00Z" }), "data.signals[0].meta.retrievedAt"],
    ])("%s", async (_case, payload, field) => {
      const delivery = payload();
      await expectRejectedAndKept(JSON.stringify(delivery), field, delivery.eventId as string);
    });

    it("applies the first instant of year 1", async () => {
      const delivery = at({ oemUpdatedAt: "0001-01-01T00:00:00Z" });
      expect(await postDelivery(t.url, delivery)).toMatchObject({ status: 200, body: { status: "applied" } });
    });
  });

  describe("vehicle.year outside PostgreSQL's integer: 422 naming the field", () => {
    it.each([2 ** 31, -(2 ** 31) - 1, 1e300])("%d", async (year) => {
      const delivery = vehicleState({ vehicleId: randomUUID(), year, signals: [signal()] });
      await expectRejectedAndKept(JSON.stringify(delivery), "data.vehicle.year", delivery.eventId as string);
    });

    it("applies the largest integer", async () => {
      const delivery = vehicleState({ vehicleId: randomUUID(), year: 2 ** 31 - 1, signals: [signal()] });
      expect(await postDelivery(t.url, delivery)).toMatchObject({ status: 200, body: { status: "applied" } });
    });
  });

  it.each([
    ["5e-324", 5e-324],
    ["-0", -0],
    ["1e308", 1e308],
    ["2**53+1", 2 ** 53 + 1],
  ])("applies a signal value of %s", async (_case, value) => {
    const vehicleId = randomUUID();
    const delivery = vehicleState({ vehicleId, signals: [{ code: "x-number", body: { value } }] });
    expect(await postDelivery(t.url, delivery)).toMatchObject({ status: 200, body: { status: "applied" } });
    const [stored] = await t.app.dataSource.query("SELECT value FROM signals WHERE vehicle_id = $1", [vehicleId]);
    expect(stored.value).toBe(value === 0 ? 0 : value);
  });
});

/** Counterexamples the fuzz test (webhooks-fuzz.test.ts) found, shrunk, kept as regressions. */
describe("fuzz findings", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });

  // class-transformer took an own `constructor` key for the class to build: a TypeError, answered 500.
  it("a `constructor` key where a string belongs is a 422 naming the field (was 500)", async () => {
    const delivery = withPath(vehicleState({ vehicleId: randomUUID(), signals: [signal()] }), ["data", "vehicle", "id"], { constructor: "\u0001" });
    const result = await postDelivery(t.url, delivery);
    expect(result.status).toBe(422);
    expect((result.body as { error: { message: string } }).error.message).toContain("data.vehicle.id");
  });

  // IsOptional lets null through: the normaliser then called forEach/map on null, a 500.
  it.each([
    ["data.signals", () => withPath(vehicleState({ vehicleId: randomUUID(), signals: [signal()] }), ["data", "signals"], null)],
    ["errors", () => ({ eventId: randomUUID(), eventType: "VEHICLE_ERROR", errors: null, meta: { version: "4.0" } })],
    ["data.errors", () => withPath(vehicleError({ vehicleId: randomUUID(), errors: [] }), ["data", "errors"], null)],
  ])("%s: null is a 422 naming the field (was 500)", async (field, payload) => {
    const result = await postDelivery(t.url, payload());
    expect(result.status).toBe(422);
    expect((result.body as { error: { message: string } }).error.message).toContain(field);
  });

  // ValidateNested passes an array nested in the list vacuously: a signal without a code reached
  // signal_errors (NOT NULL violated), an error without a type reached vehicle_issues: 500.
  it.each([
    ["data.signals", () => withPath(vehicleState({ vehicleId: randomUUID(), signals: [signal()] }), ["data", "signals", 1], [])],
    ["data.errors", () => withPath(vehicleError({ vehicleId: randomUUID(), errors: [{ type: "T", code: "C", state: "ERROR" }] }), ["data", "errors", 0], [[]])],
    ["errors", () => ({ eventId: randomUUID(), eventType: "VEHICLE_ERROR", errors: [[]] })],
  ])("%s: an array where an object belongs is a 422 naming the field (was 500)", async (field, payload) => {
    const result = await postDelivery(t.url, payload());
    expect(result.status).toBe(422);
    expect((result.body as { error: { message: string } }).error.message).toContain(`${field}: each element must be an object`);
  });

  // `vehicleId: null` without data.vehicle became a vehicle whose id is null: NOT NULL violated, 500.
  it("a VEHICLE_ERROR with `vehicleId: null` and no data.vehicle is applied without a vehicle (was 500)", async () => {
    const delivery = { eventId: randomUUID(), eventType: "VEHICLE_ERROR", vehicleId: null, data: { errors: [{ type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", state: "ERROR" }] } };
    expect(await postDelivery(t.url, delivery)).toMatchObject({ status: 200, body: { status: "applied" } });
    const [issue] = await t.app.dataSource.query("SELECT vehicle_id FROM vehicle_issues WHERE event_id = $1", [delivery.eventId]);
    expect(issue).toEqual({ vehicle_id: null });
  });

  it("`constructor`, `__proto__` and `prototype` keys in a signal body are applied and stored as plain data (was 500)", async () => {
    const vehicleId = randomUUID();
    const body = JSON.parse('{"value": 1, "constructor": "x", "__proto__": {"polluted": "yes"}, "prototype": {"constructor": {}}}');
    const raw = JSON.stringify(vehicleState({ vehicleId, signals: [{ code: "x-keys", body: "@BODY@" }] })).replace('"@BODY@"', JSON.stringify(body));
    expect(raw).toContain('"__proto__":{"polluted":"yes"}');
    expect(await postDelivery(t.url, raw)).toMatchObject({ status: 200, body: { status: "applied" } });
    const [stored] = await t.app.dataSource.query<Array<{ body: string }>>("SELECT body::text FROM signals WHERE vehicle_id = $1", [vehicleId]);
    expect(JSON.parse(stored.body)).toEqual(JSON.parse('{"value": 1, "constructor": "x", "__proto__": {"polluted": "yes"}, "prototype": {"constructor": {}}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

/** Sets `value` at `path` inside `target` (creating objects on the way) and returns `target`. */
function withPath<T extends object>(target: T, path: ReadonlyArray<string | number>, value: unknown): T {
  let node = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string | number, unknown>;
  node[path[path.length - 1]] = value;
  return target;
}
