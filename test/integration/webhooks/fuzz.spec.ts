import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { hmacHex } from "../../../src/webhooks/signature";
import { gql, signToken } from "../../helpers/graphql";
import { startTestApp, TEST_MANAGEMENT_TOKEN, type TestApp } from "../../helpers/test-app";

/**
 * Property tests of POST /webhooks/smartcar against the real server and database: whatever a body,
 * its content type or its encoding, the answer is one of the contract's statuses (never a 5xx),
 * a refusal stores nothing (a 422 only the raw body, in webhook_rejections), an answer of 200 has its
 * event stored, no live row exists without its stored event, and no prototype is polluted.
 *
 * A failure prints fast-check's seed and path; replay it with FUZZ_SEED=<seed> FUZZ_PATH=<path>.
 * Each counterexample found was turned into a regression test (webhooks-input, webhooks-http).
 */

const BODY_LIMIT = 64 * 1024;
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
/** Bodies sent at once in each run (1 to this many, so a failure shrinks to one body): about 4.5 × RUNS in all (with the default, about 450). */
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 8);

const fixtureDir = path.join(__dirname, "..", "..", "fixtures");
const fixtures: Array<[string, unknown]> = fs
  .readdirSync(fixtureDir)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => [name, JSON.parse(fs.readFileSync(path.join(fixtureDir, name), "utf8"))]);

// ---- values --------------------------------------------------------------------------------------

const LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "a\ud83d", "\ude00b"];
const nastyString = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    ...LONE_SURROGATES,
    "\ufeffBOM",
    "\u202eRTL override",
    "עברית",
    "😀🚗",
    "\u{10ffff}",
    "e\u0301",
    "0000-01-01T00:00:00Z",
    "-000001-01-01T00:00:00Z",
    "+275760-09-13T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "0001-01-01T00:00:00+01:00",
    "2025-10-17T01:38:11.694Z",
    "Invalid Date",
    "VERIFY",
    "VEHICLE_STATE",
    "VEHICLE_ERROR",
    "ERROR",
    "RESOLVED",
    "TEST",
    "Odometer.TraveledDistance",
    "__proto__",
    "constructor",
    "x".repeat(3000),
  ),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 8 }),
);
const nastyNumber = fc.oneof(
  fc.constantFrom(1e308, -1e308, -0, 0, 5e-324, 2 ** 53 + 1, -1, 1, 1.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 31 - 1, 1e11, 1e300, 8.64e15, 8.64e15 + 1),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const pollutingKeys = fc.constantFrom("__proto__", "constructor", "prototype", "polluted", "toString", "hasOwnProperty");

/** Any JSON, biased to the values that broke things: odd text and numbers, wrong types, prototype keys. */
const { nasty } = fc.letrec<{ nasty: unknown }>((tie) => ({
  nasty: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    nastyString,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("nasty"), { maxLength: 4 }),
    fc
      .array(fc.tuple(fc.oneof(pollutingKeys, nastyString), tie("nasty")), { maxLength: 4 })
      .map((entries) => Object.fromEntries(entries)), // defines keys: `__proto__` stays plain data
    fc.constant({ __proto__: null, polluted: "yes" }).map(() => JSON.parse('{"__proto__": {"polluted": "yes"}}')),
    fc.constant(null).map(() => ({ constructor: { prototype: { polluted: "yes" } } })),
    fc.integer({ min: 2, max: 120 }).map((depth) => JSON.parse("[".repeat(depth) + "]".repeat(depth))),
  ),
}));

// ---- mutations of real payloads ----------------------------------------------------------------

type Path = ReadonlyArray<string | number>;

/** Every path in a JSON value, the value itself included (as []). */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (typeof value === "object" && value !== null) {
    for (const [key, child] of Object.entries(value)) paths.push(...pathsOf(child, [...prefix, Array.isArray(value) ? Number(key) : key]));
  }
  return paths;
}

/**
 * `set` puts any value anywhere (mostly a 422); `retype` replaces a string with another string and a
 * number with another number, so odd values also get past validation into PostgreSQL.
 */
type Mutation = { kind: "set" | "retype" | "delete" | "add"; at: number; key: string; value: unknown; text: string; number: number };
const mutation = fc.record({
  kind: fc.constantFrom("set", "retype", "retype", "delete", "add") as fc.Arbitrary<Mutation["kind"]>,
  at: fc.nat(),
  key: fc.oneof(pollutingKeys, fc.constantFrom("eventId", "eventType", "data", "meta", "signals", "errors", "body", "code", "year"), nastyString),
  value: nasty,
  text: nastyString,
  number: nastyNumber,
});

function mutate(original: unknown, mutations: readonly Mutation[]): unknown {
  let root = JSON.parse(JSON.stringify(original)) as unknown;
  for (const { kind, at, key, value: generated, text, number } of mutations) {
    // A copy: fast-check reuses generated values across runs and shrinks, and later mutations edit in place.
    const value = generated === undefined ? undefined : (JSON.parse(JSON.stringify(generated)) as unknown);
    const paths = pathsOf(root);
    const target = paths[at % paths.length];
    if (target.length === 0) {
      if (kind === "set") root = value;
      else if (kind === "add" && Array.isArray(root)) root.push(value);
      else if (kind === "add" && typeof root === "object" && root !== null) define(root, key, value);
      continue;
    }
    const parent = target.slice(0, -1).reduce<unknown>((node, step) => (node as Record<string | number, unknown>)[step], root) as Record<string | number, unknown>;
    const last = target[target.length - 1];
    if (kind === "set") define(parent, last, value);
    else if (kind === "retype" && typeof parent[last] === "string") define(parent, last, text);
    else if (kind === "retype" && typeof parent[last] === "number") define(parent, last, number);
    else if (kind === "delete" && Array.isArray(parent)) parent.splice(Number(last), 1);
    else if (kind === "delete") delete parent[last];
    else if (Array.isArray(parent[last])) (parent[last] as unknown[]).push(value);
    else if (typeof parent[last] === "object" && parent[last] !== null) define(parent[last] as object, key, value);
  }
  return root;
}

/** Sets a key as data, even `__proto__`. */
function define(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---- raw bytes and headers ---------------------------------------------------------------------

type RawChange =
  | { kind: "none" }
  | { kind: "truncate"; at: number }
  | { kind: "duplicateKey"; key: string; value: unknown; first: boolean }
  | { kind: "bom" }
  | { kind: "invalidUtf8"; at: number }
  | { kind: "hugeNumber"; text: string }
  | { kind: "overLimit" };
const rawChange: fc.Arbitrary<RawChange> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("duplicateKey" as const), key: fc.constantFrom("eventId", "eventType", "data", "__proto__", "constructor"), value: nasty, first: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "bom" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("invalidUtf8" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("hugeNumber" as const), text: fc.constantFrom("1e400", "-1e400", "1E-400", "-0.0", "123456789012345678901234567890", "0.0000000000000000000000000001") }) },
  { weight: 1, arbitrary: fc.constant({ kind: "overLimit" as const }) },
);

function applyRawChange(json: string, change: RawChange): Buffer {
  switch (change.kind) {
    case "none":
      return Buffer.from(json);
    case "truncate":
      return Buffer.from(json).subarray(0, change.at % Math.max(json.length, 1));
    case "duplicateKey": {
      const member = `${JSON.stringify(change.key)}:${JSON.stringify(change.value) ?? "null"}`;
      if (!json.startsWith("{") || json === "{}") return Buffer.from(json);
      return Buffer.from(change.first ? `{${member},${json.slice(1)}` : `${json.slice(0, -1)},${member}}`);
    }
    case "bom":
      return Buffer.from(`\ufeff${json}`);
    case "invalidUtf8": {
      const bytes = Buffer.from(json);
      const at = change.at % (bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xed, 0xa0, 0x80]), bytes.subarray(at)]);
    }
    case "hugeNumber":
      return Buffer.from(json.replace(/(?<=[:[,])-?\d+(\.\d+)?([eE][-+]?\d+)?(?=[,\]}])/, change.text));
    case "overLimit":
      return Buffer.from(json + " ".repeat(BODY_LIMIT));
  }
}

const contentTypes = [
  { value: "application/json", json: true },
  { value: "application/json; charset=utf-8", json: true },
  { value: "Application/JSON", json: true },
  { value: "application/json; charset=latin1", json: true },
  { value: "text/plain", json: false },
  { value: "application/x-www-form-urlencoded", json: false },
  { value: "multipart/form-data; boundary=x", json: false },
  { value: "application/vnd.api+json", json: false },
  { value: "text/html", json: false },
  { value: undefined, json: false },
] as const;
const encodings = [undefined, "identity", "IDENTITY", "gzip", "deflate", "br", "x-unknown", "gzip, identity"] as const;
const headerCase = fc.record({
  contentType: fc.oneof({ weight: 8, arbitrary: fc.constant(contentTypes[0]) }, { weight: 2, arbitrary: fc.constantFrom(...contentTypes) }),
  encoding: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...encodings) }),
  compress: fc.boolean(),
  signed: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

const delivery = fc.record({
  fixture: fc.constantFrom(...fixtures.map(([name]) => name)),
  mutations: fc.array(mutation, { minLength: 0, maxLength: 3 }),
  raw: rawChange,
  headers: headerCase,
});
type DeliveryCase = typeof delivery extends fc.Arbitrary<infer T> ? T : never;

// ---- the property ------------------------------------------------------------------------------

const CONTRACT_STATUSES = new Set([200, 400, 401, 413, 415, 422]);

describe("POST /webhooks/smartcar under fuzzing", () => {
  let t: TestApp;
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_BODY_LIMIT: String(BODY_LIMIT) });
  });

  const storedWith = async (raw: Buffer) =>
    (
      await t.app.dataSource.query<Array<{ events: number; rejections: number }>>(
        `SELECT (SELECT count(*)::int FROM webhook_events WHERE raw_body = $1) AS events,
                (SELECT count(*)::int FROM webhook_rejections WHERE raw_body = $1) AS rejections`,
        [raw],
      )
    )[0];

  /** The exact bytes a sample sends. */
  function bodyOf(sample: DeliveryCase): Buffer {
    const base = JSON.parse(JSON.stringify(fixtures.find(([name]) => name === sample.fixture)![1])) as Record<string, unknown>;
    if ("eventType" in base) base.eventId = randomUUID(); // fresh, so mutants of one fixture are not duplicates
    const mutated = mutate(base, sample.mutations);
    const raw = applyRawChange(JSON.stringify(mutated) ?? "null", sample.raw);
    const { encoding, compress } = sample.headers;
    if (!compress) return raw;
    return encoding === "gzip" ? gzipSync(raw) : encoding === "deflate" ? deflateSync(raw) : encoding === "br" ? brotliCompressSync(raw) : raw;
  }

  async function send(sample: DeliveryCase, body: Buffer): Promise<void> {
    const { contentType, encoding, signed } = sample.headers;
    const headers: Record<string, string> = {};
    if (contentType.value !== undefined) headers["content-type"] = contentType.value;
    if (encoding !== undefined) headers["content-encoding"] = encoding;
    if (signed) headers["sc-signature"] = hmacHex(TEST_MANAGEMENT_TOKEN, body);

    const before = await storedWith(body);
    const response = await fetch(`${t.url}/webhooks/smartcar`, { method: "POST", headers, body });
    const text = await response.text();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    const context = `status ${response.status} ${text.slice(0, 300)}`;

    if (!CONTRACT_STATUSES.has(response.status)) throw new Error(`not a status of the contract: ${context}`);
    const answer = JSON.parse(text) as { status?: string; eventId?: string; challenge?: string; error?: { code: string; message: string } };
    const identity = encoding === undefined || encoding.trim().toLowerCase() === "identity";
    if (!contentType.json || !identity) expect(response.status).toBe(415);
    else if (body.length > BODY_LIMIT) expect(response.status).toBe(413);
    else if (signed) expect([200, 400, 422]).toContain(response.status);
    else expect([200, 401]).toContain(response.status);

    const after = await storedWith(body);
    if (response.status === 200 && answer.challenge === undefined) {
      expect(signed).toBe(true);
      expect(["applied", "duplicate", "test"]).toContain(answer.status);
      const rows = await t.app.dataSource.query("SELECT 1 FROM webhook_events WHERE event_id = $1", [answer.eventId]);
      expect(rows).toHaveLength(1);
    } else if (response.status === 422) {
      expect(answer.error).toEqual({ code: "UNPROCESSABLE_ENTITY", message: expect.any(String) });
      expect(after.rejections).toBe(before.rejections + 1);
      expect(after.events).toBe(before.events);
    } else {
      expect(after).toEqual(before); // nothing stored for any other answer
      if (response.status !== 200) expect(answer.error).toEqual({ code: expect.any(String), message: expect.any(String) });
    }
  }

  it(`answers every mutated, re-encoded or mislabelled body within the contract (${RUNS} runs of up to ${CONCURRENCY} bodies at once)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(delivery, { minLength: 1, maxLength: CONCURRENCY }), async (samples) => {
        // Samples that send the very same bytes go one after the other: what each stored is counted by its bytes.
        const byBody = new Map<string, Array<[DeliveryCase, Buffer]>>();
        for (const sample of samples) {
          const body = bodyOf(sample);
          byBody.set(body.toString("base64"), [...(byBody.get(body.toString("base64")) ?? []), [sample, body]]);
        }
        const sendGroup = async (group: Array<[DeliveryCase, Buffer]>) => {
          for (const [sample, body] of group) await send(sample, body);
        };
        await Promise.all([...byBody.values()].map(sendGroup));
      }),
      {
        numRuns: RUNS,
        seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined,
        path: process.env.FUZZ_PATH,
      },
    );

    // No partial write: every live row belongs to a stored event, every vehicle to a stored delivery.
    const [orphans] = await t.app.dataSource.query<Array<Record<string, number>>>(`
      SELECT (SELECT count(*)::int FROM signal_readings r WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.event_id = r.event_id)) AS readings,
             (SELECT count(*)::int FROM signals s WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.event_id = s.event_id)) AS signals,
             (SELECT count(*)::int FROM signal_errors s WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.event_id = s.event_id)) AS signal_errors,
             (SELECT count(*)::int FROM vehicle_issues i WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.event_id = i.event_id)) AS issues,
             (SELECT count(*)::int FROM vehicle_issue_changes i WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.event_id = i.event_id)) AS issue_events,
             (SELECT count(*)::int FROM vehicles v WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.vehicle_id = v.id)) AS vehicles`);
    expect(orphans).toEqual({ readings: 0, signals: 0, signal_errors: 0, issues: 0, issue_events: 0, vehicles: 0 });

    // No prototype pollution, in this process (the server runs in it).
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);

    // What was stored reads back: every vehicle, signal and issue through GraphQL, without an error.
    const read = await gql(
      t.url,
      `{ vehicles(first: 100) { totalCount edges { node { id make model year vin signals { code value unit body oemUpdatedAt }
           signalErrors { code errorType errorCode } issues { type code description signalCodes } } } } }`,
      { token: await signToken({ sub: "fuzz", role: "admin" }) },
    );
    expect(read.errors).toBeUndefined();
    expect(read.status).toBe(200);

    // The run must have reached every kind of answer, or the generators have drifted.
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 400, 413, 415, 422]));
  });
});

describe("POST /graphql under every content type and encoding", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ JWT_SECRET: undefined }); // open: the body is read and run, not refused for its token
  });

  const graphqlBody = fc.oneof(
    fc.constant(JSON.stringify({ query: "{ __typename }" })),
    fc.constant(JSON.stringify({ query: "{ __typename }" }).slice(0, 10)),
    nasty.map((value) => JSON.stringify({ query: value, variables: value, operationName: value }) ?? "null"),
    nasty.map((value) => JSON.stringify(value) ?? "null"),
    fc.string({ unit: "binary", maxLength: 50 }),
  );
  const graphqlCase = fc.record({
    body: graphqlBody,
    contentType: fc.constantFrom("application/json", "application/json; charset=utf-8", "application/json; charset=utf-16", "application/graphql", "text/plain", "application/x-www-form-urlencoded", undefined),
    encoding: fc.constantFrom(undefined, "identity", "gzip", "deflate", "br", "x-unknown", "gzip, br"),
    compress: fc.boolean(),
  });

  it("never answers 5xx, and answers errors as JSON", async () => {
    await fc.assert(
      fc.asyncProperty(graphqlCase, async ({ body: text, contentType, encoding, compress }) => {
        const raw = Buffer.from(text);
        const body = !compress ? raw : encoding === "gzip" ? gzipSync(raw) : encoding === "deflate" ? deflateSync(raw) : encoding === "br" ? brotliCompressSync(raw) : raw;
        const headers: Record<string, string> = { "apollo-require-preflight": "1" };
        if (contentType !== undefined) headers["content-type"] = contentType;
        if (encoding !== undefined) headers["content-encoding"] = encoding;
        const response = await fetch(`${t.url}/graphql`, { method: "POST", headers, body });
        const answer = await response.text();
        if (response.status >= 500) throw new Error(`status ${response.status} ${answer.slice(0, 300)}`);
        expect(response.headers.get("content-type")).toMatch(/json/);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 80) * 2, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
    );
  });
});
