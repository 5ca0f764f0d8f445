import { gql, gqlData, signToken } from "../../helpers/graphql";
import { postDelivery, vehicleState, type SignalSpec } from "../../helpers/smartcar";
import { startTestApp, type TestApp } from "../../helpers/test-app";

const T0 = Date.parse("2026-10-01T08:00:00.000Z");
const at = (minutes: number) => T0 + minutes * 60_000;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();
const SOC = "tractionbattery-stateofcharge";
const ODO = "odometer-traveleddistance";

interface Reading {
  value: number;
  observedAt: string;
  late: boolean;
}
interface HistoryPage {
  totalCount: number;
  edges: Array<{ cursor: string; node: Reading }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

describe("GraphQL history, asOf and series", () => {
  let t: TestApp;
  let token: string;

  const post = async (signals: SignalSpec[]) => {
    const result = await postDelivery(t.url, vehicleState({ vehicleId: "veh-h", userId: "user-h", signals }));
    expect(result.status).toBe(200);
  };
  const soc = (value: number, minutes: number): SignalSpec => ({ code: SOC, body: { value, unit: "percent" }, oemUpdatedAt: at(minutes) });

  beforeAll(async () => {
    t = await startTestApp();
    token = await signToken({ sub: "user-h" });
    await post([soc(50, 0), { code: ODO, body: { value: 100 }, oemUpdatedAt: at(0) }]);
    await post([soc(60, 10)]);
    await post([soc(40, 25)]);
    await post([soc(90, 70), { code: ODO, body: { value: 160 }, oemUpdatedAt: at(60) }]);
    // Arrives last but was observed at +5 min: history keeps it (late), the latest value stays 90.
    await post([soc(55, 5)]);
  });

  const signalsAsOf = async (asOf: string) => {
    const data = await gqlData<{ vehicle: { signals: Array<{ code: string; value: number; observedAt: string }> } }>(
      t.url,
      `query($asOf: DateTime) { vehicle(id: "veh-h") { signals(asOf: $asOf) { code value observedAt } } }`,
      { token, variables: { asOf } },
    );
    return data.vehicle.signals;
  };

  describe("Vehicle.signals(asOf)", () => {
    it("answers each signal's value at a past instant, counting late readings by when they were observed", async () => {
      expect(await signalsAsOf(iso(7))).toEqual([
        { code: ODO, value: 100, observedAt: iso(0) },
        { code: SOC, value: 55, observedAt: iso(5) },
      ]);
      expect(await signalsAsOf(iso(30))).toEqual([
        { code: ODO, value: 100, observedAt: iso(0) },
        { code: SOC, value: 40, observedAt: iso(25) },
      ]);
      // An instant equal to an observation includes it.
      expect((await signalsAsOf(iso(60))).find((s) => s.code === ODO)?.value).toBe(160);
    });

    it("is empty before the first reading and equals the latest values now", async () => {
      expect(await signalsAsOf(iso(-1))).toEqual([]);
      const latest = await gqlData<{ vehicle: { signals: unknown[] } }>(t.url, `{ vehicle(id: "veh-h") { signals { code value observedAt } } }`, { token });
      expect(await signalsAsOf(new Date().toISOString())).toEqual(latest.vehicle.signals);
      expect(latest.vehicle.signals).toEqual([
        { code: ODO, value: 160, observedAt: iso(60) },
        { code: SOC, value: 90, observedAt: iso(70) },
      ]);
    });
  });

  describe("Signal.history", () => {
    const history = async (args: string, variables: Record<string, unknown> = {}) => {
      const data = await gqlData<{ vehicle: { signal: { history: HistoryPage } } }>(
        t.url,
        `query($after: String) { vehicle(id: "veh-h") { signal(code: "${SOC}") { history(${args}) {
          totalCount edges { cursor node { value observedAt late } } pageInfo { hasNextPage endCursor } } } } }`,
        { token, variables },
      );
      return data.vehicle.signal.history;
    };

    it("lists every reading newest first, marking the late one", async () => {
      const page = await history("first: 10, after: $after");
      expect(page.totalCount).toBe(5);
      expect(page.edges.map((edge) => edge.node)).toEqual([
        { value: 90, observedAt: iso(70), late: false },
        { value: 40, observedAt: iso(25), late: false },
        { value: 60, observedAt: iso(10), late: false },
        { value: 55, observedAt: iso(5), late: true },
        { value: 50, observedAt: iso(0), late: false },
      ]);
      expect(page.pageInfo.hasNextPage).toBe(false);
    });

    it("pages through with cursors, each reading exactly once", async () => {
      const seen: number[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page: HistoryPage = await history("first: 2, after: $after", { after });
        seen.push(...page.edges.map((edge) => edge.node.value));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
        pages += 1;
      } while (after);
      expect(seen).toEqual([90, 40, 60, 55, 50]);
      expect(pages).toBe(3);
    });

    it("limits to [from, to) and counts only that range; ASC reverses the order", async () => {
      const page = await history(`from: "${iso(5)}", to: "${iso(25)}", direction: ASC, after: $after`);
      expect(page.edges.map((edge) => edge.node.value)).toEqual([55, 60]);
      expect(page.totalCount).toBe(2);
    });
  });

  describe("Signal.series", () => {
    const series = async (from: string, to: string, interval: string) => {
      const data = await gqlData<{ vehicle: { signal: { series: unknown[] } } }>(
        t.url,
        `{ vehicle(id: "veh-h") { signal(code: "${SOC}") { series(from: "${from}", to: "${to}", interval: "${interval}") { start count first last min max avg } } } }`,
        { token },
      );
      return data.vehicle.signal.series;
    };

    it("aggregates 30-minute buckets, empty ones included", async () => {
      expect(await series(iso(0), iso(90), "PT30M")).toEqual([
        // 50 @0, 55 @5 (late), 60 @10, 40 @25
        { start: iso(0), count: 4, first: 50, last: 40, min: 40, max: 60, avg: 51.25 },
        { start: iso(30), count: 0, first: null, last: null, min: null, max: null, avg: null },
        { start: iso(60), count: 1, first: 90, last: 90, min: 90, max: 90, avg: 90 },
      ]);
    });

    it("aligns buckets to `from` and ends the range before `to`", async () => {
      expect(await series(iso(5), iso(70), "PT1H")).toEqual([
        // [5, 65): 55 @5, 60 @10, 40 @25; [65, 70) holds nothing since 90 @70 is at `to`, excluded.
        { start: iso(5), count: 3, first: 55, last: 40, min: 40, max: 60, avg: (55 + 60 + 40) / 3 },
        { start: iso(65), count: 0, first: null, last: null, min: null, max: null, avg: null },
      ]);
    });

    it("refuses an unusable interval or range", async () => {
      const attempt = (args: string) =>
        gql(t.url, `{ vehicle(id: "veh-h") { signal(code: "${SOC}") { series(${args}) { count } } } }`, { token });
      for (const args of [
        `from: "${iso(0)}", to: "${iso(60)}", interval: "P1M"`,
        `from: "${iso(0)}", to: "${iso(60)}", interval: "15 minutes"`,
        `from: "${iso(60)}", to: "${iso(0)}", interval: "PT1M"`,
        `from: "${iso(0)}", to: "${iso(60 * 24 * 30)}", interval: "PT1M"`,
        // Wider than PostgreSQL's interval type: was an internal error.
        `from: "${iso(0)}", to: "${iso(60)}", interval: "P99999999999999999999D"`,
        `from: "${iso(0)}", to: "${iso(60)}", interval: "PT99999999999999999S"`,
      ]) {
        const result = await attempt(args);
        expect(result.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      }
    });
  });
});
