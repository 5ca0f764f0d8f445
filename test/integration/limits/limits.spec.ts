import { countQueries, gql, gqlData, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleError, vehicleState } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

const FLEET = 120;
const idOf = (n: number) => `veh-${String(n).padStart(3, "0")}`;

/** Runs `fn` over `items`, `concurrency` at a time. */
async function inParallel<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

interface Page {
  totalCount: number;
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

describe("GraphQL pagination, limits, batching and errors", () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signToken({ role: "admin" });
    const numbers = Array.from({ length: FLEET }, (_, n) => n);
    await inParallel(numbers, 8, async (n) => {
      const state = vehicleState({
        vehicleId: idOf(n),
        userId: `user-${n % 3}`,
        signals: [
          { code: "tractionbattery-stateofcharge", body: { value: n % 100 } },
          { code: "odometer-traveleddistance", body: { value: 1000 + n } },
          { code: "location-preciselocation", error: { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE" } },
        ],
      });
      expect((await postDelivery(t.url, state)).status).toBe(200);
      const error = vehicleError({ vehicleId: idOf(n), userId: `user-${n % 3}`, errors: [{ type: "VEHICLE", code: "ASLEEP", state: "ERROR" }] });
      expect((await postDelivery(t.url, error)).status).toBe(200);
    });
  });

  describe("pagination", () => {
    const walk = async (orderBy: string, first: number) => {
      const ids: string[] = [];
      let after: string | null = null;
      let totalCount: number;
      do {
        const page: { vehicles: Page } = await gqlData(t.url, `query($after: String) {
          vehicles(first: ${first}, after: $after${orderBy}) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
        }`, { token: admin, variables: { after } });
        ids.push(...page.vehicles.edges.map((edge) => edge.node.id));
        expect(page.vehicles.edges.length).toBeLessThanOrEqual(first);
        totalCount = page.vehicles.totalCount;
        after = page.vehicles.pageInfo.hasNextPage ? page.vehicles.pageInfo.endCursor : null;
      } while (after);
      return { ids, totalCount };
    };

    it.each([
      ["by id", "", 7],
      ["by id, descending", ", orderBy: { field: ID, direction: DESC }", 13],
      ["by last seen, newest first", ", orderBy: { field: LAST_SEEN_AT, direction: DESC }", 9],
      ["by first seen", ", orderBy: { field: FIRST_SEEN_AT }", 100],
    ])("walks every vehicle exactly once %s", async (_name, orderBy, first) => {
      const { ids, totalCount } = await walk(orderBy, first);
      expect(totalCount).toBe(FLEET);
      expect(ids).toHaveLength(FLEET);
      expect(new Set(ids).size).toBe(FLEET);
    });

    it("returns 20 by default and at most 100; refuses more, zero or negative", async () => {
      const page = await gqlData<{ a: Page; b: Page }>(t.url, `{ a: vehicles { edges { node { id } } } b: vehicles(first: 100) { edges { node { id } } } }`, { token: admin });
      expect(page.a.edges).toHaveLength(20);
      expect(page.b.edges).toHaveLength(100);
      for (const first of [101, 0, -1]) {
        const refused = await gql(t.url, `{ vehicles(first: ${first}) { totalCount } }`, { token: admin });
        expect(refused.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
        expect(refused.data ?? null).toBeNull();
      }
      const issues = await gql(t.url, `{ issues(first: 1000) { totalCount } }`, { token: admin });
      expect(issues.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    });

    it("keeps a cursor valid when rows are added before it", async () => {
      const first = await gqlData<{ vehicles: Page }>(t.url, `{ vehicles(first: 5) { edges { node { id } } pageInfo { endCursor } } }`, { token: admin });
      expect(first.vehicles.edges.map((e) => e.node.id)).toEqual([idOf(0), idOf(1), idOf(2), idOf(3), idOf(4)]);
      expect((await postDelivery(t.url, vehicleState({ vehicleId: "veh-000a", signals: [{ code: "odometer-traveleddistance" }] }))).status).toBe(200);
      const next = await gqlData<{ vehicles: Page }>(t.url, `query($after: String) { vehicles(first: 2, after: $after) { edges { node { id } } } }`, {
        token: admin,
        variables: { after: first.vehicles.pageInfo.endCursor },
      });
      expect(next.vehicles.edges.map((e) => e.node.id)).toEqual([idOf(5), idOf(6)]);
    });
  });

  describe("batching", () => {
    const PAGE = (first: number) => `{
      vehicles(first: ${first}) {
        totalCount
        edges { node {
          id
          signals(codes: ["tractionbattery-stateofcharge", "odometer-traveleddistance"]) { code value ageSeconds history(first: 2) { totalCount edges { node { value late } } } }
          soc: signal(code: "tractionbattery-stateofcharge") { value series(from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z", interval: "PT6H") { count } }
          signalErrors { code errorCode }
          issues { code state openSeconds totalOpenSeconds vehicle { id } }
        } }
      }
    }`;

    it("runs the same small number of SQL statements for a page of 10 or of 100 vehicles", async () => {
      const small = await countQueries(() => gqlData<{ vehicles: Page }>(t.url, PAGE(10), { token: admin }));
      const large = await countQueries(() => gqlData<{ vehicles: Page }>(t.url, PAGE(100), { token: admin }));
      expect(small.result.vehicles.edges).toHaveLength(10);
      expect(large.result.vehicles.edges).toHaveLength(100);
      // page, count, signals, history pages, history counts, series, errors, issues, issue episodes, issue vehicles
      expect(large.queries.length).toBeLessThanOrEqual(10);
      expect(large.queries.length).toBe(small.queries.length);
      const node = (large.result.vehicles.edges[42].node as unknown) as { signals: Array<{ history: { totalCount: number } }>; issues: unknown[]; signalErrors: unknown[] };
      expect(node.signals).toHaveLength(2);
      expect(node.signals[0].history.totalCount).toBe(1);
      expect(node.signalErrors).toEqual([{ code: "location-preciselocation", errorCode: "VEHICLE_NOT_CAPABLE" }]);
      expect(node.issues).toHaveLength(1);
    });
  });

  describe("depth and cost limits", () => {
    it("refuses a too deep query before any SQL runs", async () => {
      const deep = `{ issues { edges { node { vehicle { issues { vehicle { issues { vehicle { issues { vehicle { issues { vehicle { id } } } } } } } } } } } } }`;
      const { result, queries } = await countQueries(() => gql(t.url, deep, { token: admin }));
      expect(result.status).toBe(400);
      expect(result.errors?.[0].extensions?.code).toBe("QUERY_TOO_DEEP");
      expect(result.data ?? null).toBeNull();
      expect(queries).toEqual([]);
    });

    it("refuses a too costly query before any SQL runs", async () => {
      const costly = `{ vehicles(first: 100) { edges { node { signals { history(first: 100) { edges { node { value } } } } } } } }`;
      const { result, queries } = await countQueries(() => gql(t.url, costly, { token: admin }));
      expect(result.status).toBe(400);
      expect(result.errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
      expect(result.errors?.[0].message).toMatch(/at most 200000/);
      expect(queries).toEqual([]);
    });

    it("counts page sizes given as variables", async () => {
      const costly = `query($n: Int) { vehicles(first: $n) { edges { node { signals { history(first: $n) { edges { node { value } } } } } } } }`;
      const refused = await gql(t.url, costly, { token: admin, variables: { n: 100 } });
      expect(refused.errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
      const allowed = await gql(t.url, costly, { token: admin, variables: { n: 3 } });
      expect(allowed.errors).toBeUndefined();
    });

    it("counts a page size given as a variable even after the same document ran with a small one", async () => {
      const query = `query($id: ID!, $n: Int) { vehicle(id: $id) { signal(code: "x") { history(first: $n) { edges { node { value } } } } } vehicles(first: $n) { edges { node { signals { history(first: $n) { edges { node { value } } } } } } } }`;
      expect((await gql(t.url, query, { token: admin, variables: { id: "v", n: 2 } })).errors).toBeUndefined();
      const refused = await gql(t.url, query, { token: admin, variables: { id: "v", n: 100 } });
      expect(refused.errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
    });

    it("answers a bad variable alike before and after its operation's cost is known (it does not depend on variables)", async () => {
      const query = `query($id: ID!) { vehicle(id: $id) { id } }`;
      const answer = async (variables: Record<string, unknown>) => {
        const { status, errors } = await gql(t.url, query, { token: admin, variables });
        return { status, errors: errors?.map(({ message, extensions }) => ({ message, code: extensions?.code })) };
      };
      const missingFirst = await answer({});
      const wrongFirst = await answer({ id: { not: "an id" } });
      expect(missingFirst.status).toBe(400);
      expect(missingFirst.errors).toEqual([{ message: expect.stringMatching(/\$id/), code: "BAD_USER_INPUT" }]);
      expect(wrongFirst.status).toBe(400);
      expect((await answer({ id: "v" })).errors).toBeUndefined();
      expect(await answer({})).toEqual(missingFirst);
      expect(await answer({ id: { not: "an id" } })).toEqual(wrongFirst);
    });

    it("still answers introspection", async () => {
      const response = await fetch(`${t.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: (await import("graphql")).getIntrospectionQuery() }),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    });
  });

  describe("errors", () => {
    it("masks an internal failure as INTERNAL_SERVER_ERROR without SQL or stack", async () => {
      // Break one table behind the app's back, then put it back.
      await t.app.dataSource.query(`ALTER TABLE signal_errors RENAME TO signal_errors_hidden`);
      try {
        const result = await gql(t.url, `{ vehicle(id: "${idOf(1)}") { id signalErrors { code } } }`, { token: admin });
        expect(result.status).toBe(200);
        expect(result.errors).toHaveLength(1);
        const [error] = result.errors ?? [];
        expect(error).toMatchObject({ message: "Internal server error", path: ["vehicle", "signalErrors"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
        expect(JSON.stringify(error)).not.toMatch(/signal_errors|relation|SELECT|stack/i);
      } finally {
        await t.app.dataSource.query(`ALTER TABLE signal_errors_hidden RENAME TO signal_errors`);
      }
    });

    it("answers SERVICE_UNAVAILABLE when the database is gone", async () => {
      const other = await startTestApp();
      await other.app.pools.reads.destroy();
      const result = await gql(other.url, `{ vehicles { totalCount } }`, { token: admin });
      expect(result.errors?.[0].extensions?.code).toBe("SERVICE_UNAVAILABLE");
      expect(JSON.stringify(result.errors)).not.toMatch(/DataSource|stack/);
    });

    it("refuses more than 100 codes in Vehicle.signals (each vehicle of a page filtered by them)", async () => {
      // 60,000 codes on a 100-vehicle page kept the event loop busy for seconds.
      const query = `query($codes: [String!]) { vehicles(first: 2) { edges { node { signals(codes: $codes) { code } } } } }`;
      const many = await gql(t.url, query, { token: admin, variables: { codes: Array.from({ length: 101 }, (_, n) => `code-${n}`) } });
      expect(many.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      const hundred = await gql(t.url, query, { token: admin, variables: { codes: Array.from({ length: 100 }, (_, n) => `code-${n}`) } });
      expect(hundred.errors).toBeUndefined();
    });

    it("keeps argument validation errors readable", async () => {
      const result = await gql(t.url, `{ vehicles(year: 99999) { totalCount } }`, { token: admin });
      expect(result.errors?.[0].extensions).toEqual({ code: "BAD_USER_INPUT", argument: "year" });
      expect(result.errors?.[0].message).toBe("`year` must not be greater than 3000");
    });
  });
});
