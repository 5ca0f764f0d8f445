import { SignJWT } from "jose";
import { countQueries, gql, gqlData, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, TEST_JWT_SECRET, type TestApp } from "../../helpers/test-app";
import { connectLive } from "../../helpers/ws-client";

/** The red team's 850-byte document: fragment Fi spreads Fi+1 twice, so naive walks visit 2^21 spreads. */
function fragmentBomb(levels = 21): string {
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
  return `{ ...F0 } ${fragments.join(" ")} fragment F${levels} on Query { __typename }`;
}

/** A token signed with the test secret carrying exactly `claims` (no defaults added). */
function rawToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

const SIGNAL_CODES = Array.from({ length: 20 }, (_, n) => `test-signal${n}`);
const VEHICLE = "veh-hard-1";

describe("GraphQL hardening", () => {
  let t: TestApp;
  let admin: string;
  let user: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signToken({ role: "admin" });
    user = await signToken({ sub: "user-hard" });
    const state = vehicleState({ vehicleId: VEHICLE, userId: "user-hard", signals: SIGNAL_CODES.map((code, n) => ({ code, body: { value: n } })) });
    expect((await postDelivery(t.url, state)).status).toBe(200);
    const error = vehicleError({ vehicleId: VEHICLE, userId: "user-hard", errors: [{ type: "VEHICLE", code: "ASLEEP", state: "ERROR" }] });
    expect((await postDelivery(t.url, error)).status).toBe(200);
  });

  describe("a fragment bomb", () => {
    it("is refused at once with 400 while /healthz keeps answering", async () => {
      const document = fragmentBomb();
      expect(document.length).toBeLessThan(900);
      const started = Date.now();
      const refused = gql(t.url, document, { token: user }).then((result) => ({ result, ms: Date.now() - started }));
      // Sent while the bomb is (or was) being checked: before the fix it waited for seconds behind it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const healthStarted = Date.now();
      const health = await fetch(`${t.url}/healthz`);
      const healthMs = Date.now() - healthStarted;
      const { result, ms } = await refused;
      expect(health.status).toBe(200);
      expect(result.status).toBe(400);
      expect(["QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX"]).toContain(result.errors?.[0].extensions?.code);
      // Generous bounds (the fix answers in milliseconds; before it, 7 s and more).
      expect(ms).toBeLessThan(2_000);
      expect(healthMs).toBeLessThan(2_000);
    });

    it("is refused over WebSocket too", async () => {
      const live = connectLive(t.wsUrl, { token: admin });
      const started = Date.now();
      const subscription = await live.subscribe(fragmentBomb());
      const refused = await subscription.receive();
      expect(refused).toMatchObject({ kind: "error", errors: [{ extensions: { code: "QUERY_TOO_COMPLEX" } }] });
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it("is refused when the spreads sit inside fields, deep", async () => {
      const fragments = Array.from({ length: 21 }, (_, i) => `fragment F${i} on Vehicle { signalErrors { code } ...F${i + 1} ...F${i + 1} }`);
      const document = `{ vehicle(id: "${VEHICLE}") { ...F0 } } ${fragments.join(" ")} fragment F21 on Vehicle { id }`;
      const result = await gql(t.url, document, { token: user });
      expect(result.status).toBe(400);
      expect(result.errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
    });
  });

  describe("documents are bounded before they are parsed", () => {
    it("refuses more than 10,000 tokens with 400 QUERY_TOO_LARGE", async () => {
      const aliases = Array.from({ length: 3_400 }, (_, i) => `a${i}: __typename`).join(" ");
      const result = await gql(t.url, `{ ${aliases} }`, { token: user });
      expect(result.status).toBe(400);
      expect(result.errors?.[0].extensions?.code).toBe("QUERY_TOO_LARGE");
    });

    it.each([
      ["selection sets", (n: number) => `{ ${"vehicle(id: \"x\") { ".repeat(n)}id${" }".repeat(n)} }`],
      ["list literals", (n: number) => `{ vehicle(id: ${"[".repeat(n)}1${"]".repeat(n)}) { id } }`],
    ])("refuses %s nested thousands deep with 400 QUERY_TOO_DEEP (the parser would overflow its stack)", async (_name, nested) => {
      const result = await gql(t.url, nested(3_000), { token: user });
      expect(result.status).toBe(400);
      expect(result.errors?.[0].extensions?.code).toBe("QUERY_TOO_DEEP");
    });

    it("applies over WebSocket too: refused with QUERY_TOO_DEEP, and the socket stays open", async () => {
      const live = connectLive(t.wsUrl, { token: admin });
      const nested = `subscription { ${"signalUpdated { ".repeat(3_000)}code${" }".repeat(3_000)} }`;
      const refused = await (await live.subscribe(nested)).receive();
      expect(refused).toMatchObject({ kind: "error", errors: [{ extensions: { code: "QUERY_TOO_DEEP" } }] });
      // The same socket still serves: a small refused document proves it answered after the big one.
      const next = await (await live.subscribe(fragmentBomb())).receive();
      expect(next).toMatchObject({ kind: "error", errors: [{ extensions: { code: "QUERY_TOO_COMPLEX" } }] });
    });

    it("applies to GET too", async () => {
      const query = `{ ${"vehicle(id: \"x\") { ".repeat(100)}id${" }".repeat(100)} }`;
      const response = await fetch(`${t.url}/graphql?query=${encodeURIComponent(query)}`, { headers: { authorization: `Bearer ${user}`, "apollo-require-preflight": "1" } });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe("QUERY_TOO_DEEP");
    });
  });

  describe("what a field can return is costed", () => {
    const series = (n: number, on: string) => {
      const aliases = Array.from({ length: n }, (_, i) => `s${i}: series(from: "2026-01-01T00:00:00Z", to: "2026-01-01T00:16:40Z", interval: "PT1S") { start count first last min max avg }`);
      return `{ vehicle(id: "${VEHICLE}") { ${on} { ${aliases.join(" ")} } } }`;
    };

    it("refuses 200 series of 1,000 buckets over a vehicle's signals, before any SQL", async () => {
      const { result, queries } = await countQueries(() => gql(t.url, series(200, "signals"), { token: user }));
      expect(result.status).toBe(400);
      expect(result.errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
      expect(queries).toEqual([]);
    });

    it("refuses 200 series of 1,000 buckets of one signal", async () => {
      const result = await gql(t.url, series(200, `signal(code: "${SIGNAL_CODES[0]}")`), { token: user });
      expect(result.status).toBe(400);
      expect(result.errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
    });

    it("still answers one 1,000-bucket series of one signal", async () => {
      const data = await gqlData<{ vehicle: { signal: { s0: unknown[] } } }>(t.url, series(1, `signal(code: "${SIGNAL_CODES[0]}")`), { token: user });
      expect(data.vehicle.signal.s0).toHaveLength(1000);
    });

    it("counts signals by the codes asked for, and every signal when none are", async () => {
      const history = `history(first: 100) { edges { node { value observedAt late } } }`;
      const few = await gql(t.url, `{ vehicles(first: 100) { edges { node { signals(codes: ["${SIGNAL_CODES[0]}"]) { ${history} } } } } }`, { token: user });
      expect(few.errors).toBeUndefined();
      const all = await gql(t.url, `{ vehicles(first: 100) { edges { node { signals { ${history} } } } } }`, { token: user });
      expect(all.status).toBe(400);
      expect(all.errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
    });
  });

  describe("client mistakes are client errors", () => {
    const forge = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString("base64url");

    it.each([
      ["vehicles by last seen", `{ vehicles(first: 1, orderBy: { field: LAST_SEEN_AT }, after: "$") { totalCount } }`, "vehicles:LAST_SEEN_AT:ASC", ["x"]],
      ["issues", `{ issues(first: 1, after: "$") { totalCount } }`, "issues:OPENED_AT:DESC", ["00000000-0000-0000-0000-000000000000"]],
      ["history", `{ vehicle(id: "${VEHICLE}") { signal(code: "${SIGNAL_CODES[0]}") { history(after: "$") { totalCount } } } }`, "history:DESC", ["1"]],
    ])("a %s cursor whose time PostgreSQL cannot hold is BAD_USER_INPUT", async (_name, query, kind, rest) => {
      for (const time of ["4714-11-23 23:59:59+00 BC", "5000-01-01 00:00:00+00 BC", "294277-01-01 00:00:00+00"]) {
        const result = await gql(t.url, query.replace("$", forge([kind, time, ...rest])), { token: admin });
        expect(result.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      }
      // The oldest instant PostgreSQL holds is still a valid cursor.
      const oldest = await gql(t.url, query.replace("$", forge([kind, "4713-01-01 00:00:00+00 BC", ...rest])), { token: admin });
      expect(oldest.errors).toBeUndefined();
    });

    it.each(["0000-01-01T00:00:00+23:59", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59-23:59"])(
      "time arguments at the ends of the DateTime range (%s) are never a server error",
      async (time) => {
        const result = await gql(t.url, `query($t: DateTime!) {
          vehicles(lastSeenAfter: $t, lastSeenBefore: $t) { totalCount }
          issues(openedAfter: $t, openedBefore: $t, updatedAfter: $t) { totalCount }
          vehicle(id: "${VEHICLE}") {
            signals(asOf: $t) { code }
            signal(code: "${SIGNAL_CODES[0]}") {
              a: history(from: $t) { totalCount } b: history(to: $t) { totalCount }
              c: series(from: $t, interval: "P36525D") { count } d: series(from: "2026-01-01T00:00:00Z", to: $t, interval: "P36525D") { count }
            }
          }
        }`, { token: admin, variables: { t: time } });
        expect(JSON.stringify(result.errors ?? [])).not.toMatch(/INTERNAL_SERVER_ERROR/);
        for (const error of result.errors ?? []) expect(error.extensions?.code).toBe("BAD_USER_INPUT");
      },
    );

    it("a subscription over HTTP is a 400 that says what to do", async () => {
      const result = await gql(t.url, "subscription { signalUpdated { code } }", { token: admin });
      expect(result.status).toBe(400);
      expect(result.errors?.[0].extensions?.code).toBe("OPERATION_NOT_SUPPORTED");
      expect(result.errors?.[0].message).toMatch(/WebSocket/);
      expect(result.data ?? null).toBeNull();
    });

    it("a mutation over HTTP is served (forgetUser)", async () => {
      const result = await gql(t.url, "mutation { __typename }", { token: admin });
      expect(result.status).toBe(200);
      expect(result.data).toEqual({ __typename: "Mutation" });
    });

    it.each([
      ["a token without exp", { sub: "user-hard" }, /no exp claim/],
      ["a token with exp beyond any date", { sub: "user-hard", exp: 1e300 }, /exp/],
      ["a token with a fractional exp past the Date range", { sub: "user-hard", exp: 8_640_000_000_000.5 }, /exp/],
    ])("%s is refused with 401, over HTTP and WebSocket alike", async (_name, claims, message) => {
      const token = await rawToken(claims);
      const result = await gql(t.url, `{ vehicles { totalCount } }`, { token });
      expect(result.status).toBe(401);
      expect(result.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
      expect(result.errors?.[0].message).toMatch(message);
      const live = connectLive(t.wsUrl, { token });
      expect(await live.closed).toMatchObject({ code: 4401 });
    });

    it("a token whose exp lies far ahead, but within a Date, still works", async () => {
      const token = await rawToken({ sub: "user-hard", exp: 8_000_000_000_000 });
      expect((await gql(t.url, `{ vehicles { totalCount } }`, { token })).status).toBe(200);
    });
  });
});
