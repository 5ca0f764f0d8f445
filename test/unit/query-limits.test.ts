import { parse, type OperationDefinitionNode } from "graphql";
import { buildAppSchema } from "../../src/api/schema";
import { checkOperationLimits, MAX_COST, MAX_DEPTH, operationCost, operationDepth } from "../../src/graphql/query-limits";
import { COUNT_COST } from "../../src/graphql/field-cost";
import { AS_OF_COST_PER_SIGNAL, MAX_CODES as SIGNALS_PER_VEHICLE } from "../../src/signals/signal-codes";
import { MAX_SERIES_RANGE_COST } from "../../src/signals/series-interval";
import { CONDITION_COST, SIGNAL_ORDER_COST } from "../../src/vehicles/vehicle-where";

const depth = (query: string) => {
  const document = parse(query);
  return operationDepth(document, document.definitions.find((d): d is OperationDefinitionNode => d.kind === "OperationDefinition")!);
};

describe("operationDepth", () => {
  it("counts field nesting through fragments and inline fragments", () => {
    expect(depth(`{ a }`)).toBe(1);
    expect(depth(`{ a { b { c } } }`)).toBe(3);
    expect(depth(`{ a { ...F } } fragment F on X { b { ... on Y { c } } }`)).toBe(3);
  });

  it("ignores introspection fields and survives fragment cycles", () => {
    expect(depth(`{ __schema { types { fields { type { ofType { ofType { name } } } } } } }`)).toBe(0);
    expect(depth(`{ a { ...F } } fragment F on X { b { ...F } }`)).toBe(2);
  });
});

describe("checkOperationLimits", () => {
  const check = async (query: string, variables?: Record<string, unknown>) => {
    const document = parse(query);
    const operation = document.definitions[0] as OperationDefinitionNode;
    return checkOperationLimits(await buildAppSchema(), document, operation, variables);
  };

  it("lets an ordinary page through", async () => {
    expect(await check(`{ vehicles(first: 100) { edges { node { id signals { code value } signalErrors { code } issues { code } } } } }`)).toBeUndefined();
  });

  it("refuses nesting deeper than the limit", async () => {
    const nested = "{ issues { edges { node { vehicle { issues { vehicle { issues { vehicle { issues { vehicle { issues { vehicle { id } } } } } } } } } } } } }";
    expect(depth(nested)).toBeGreaterThan(MAX_DEPTH);
    expect((await check(nested))?.extensions.code).toBe("QUERY_TOO_DEEP");
  });

  it("multiplies nested pages by their sizes", async () => {
    const query = `query($n: Int) { vehicles(first: $n) { edges { node { signals { history(first: $n) { edges { node { value } } } } } } } }`;
    expect((await check(query, { n: 100 }))?.extensions.code).toBe("QUERY_TOO_COMPLEX");
    expect(await check(query, { n: 5 })).toBeUndefined();
  });
});

describe("checkOperationLimits on filter conditions", () => {
  const check = async (query: string, variables?: Record<string, unknown>) => {
    const document = parse(query);
    return checkOperationLimits(await buildAppSchema(), document, document.definitions[0] as OperationDefinitionNode, variables);
  };
  const near = (i: number) => `{ code: "c${i}", near: { latitude: 0, longitude: 0, radiusMeters: 20000000 } }`;
  const conditions = (n: number) => `[${Array.from({ length: n }, (_, i) => near(i)).join(", ")}]`;

  it("refuses 25 aliases of 20 conditions each, under every per-field limit, as too complex", async () => {
    const aliases = Array.from({ length: 25 }, (_, a) => `v${a}: vehicles(first: 1, where: { signals: ${conditions(20)} }) { totalCount }`);
    const refused = await check(`{ ${aliases.join(" ")} }`);
    expect(refused?.extensions.code).toBe("QUERY_TOO_COMPLEX");
    expect(refused?.message).toMatch(/500 filter conditions .* at most 20/);
  });

  it("counts conditions over aliases, fragments and variables, and lets a full single filter through", async () => {
    expect(await check(`{ vehicles(first: 10, where: { signals: ${conditions(20)} }) { totalCount edges { node { id } } } }`)).toBeUndefined();
    expect((await check(`{ a: vehicles(where: { signals: ${conditions(11)} }) { totalCount } b: vehicles(where: { signals: ${conditions(10)} }) { totalCount } }`))?.extensions).toMatchObject({ conditions: 21 });
    expect((await check(`{ ...F ...F } fragment F on Query { vehicles(where: { signals: ${conditions(11)} }) { totalCount } }`))?.extensions).toMatchObject({ conditions: 22 });
    const query = `query($w: VehicleWhere) { a: vehicles(where: $w) { totalCount } b: vehicles(where: $w) { totalCount } }`;
    const signals = Array.from({ length: 11 }, (_, i) => ({ code: `c${i}` }));
    expect((await check(query, { w: { signals } }))?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", conditions: 22 });
    expect(await check(query, { w: { signals: signals.slice(0, 10) } })).toBeUndefined();
  });
});

describe("checkOperationLimits with out-of-range page sizes", () => {
  it("does not let a negative `first` cancel out the cost of a sibling field", async () => {
    const document = parse(`{
      a: vehicles(first: 100) { edges { node { signals { history(first: 100) { edges { node { value } } } } } } }
      b: vehicles(first: -1000000) { totalCount }
    }`);
    const operation = document.definitions[0] as OperationDefinitionNode;
    expect(checkOperationLimits(await buildAppSchema(), document, operation, undefined)?.extensions.code).toBe("QUERY_TOO_COMPLEX");
  });
});

describe("operationCost: what a field can return", () => {
  const cost = async (query: string) => {
    const document = parse(query);
    return operationCost(await buildAppSchema(), document, document.definitions[0] as OperationDefinitionNode, {});
  };
  const series = (n: number, to = "2026-01-01T00:16:40Z", interval = "PT1S") =>
    `{ vehicle(id: "v") { signal(code: "c") { ${Array.from({ length: n }, (_, i) => `s${i}: series(from: "2026-01-01T00:00:00Z", to: "${to}", interval: "${interval}") { start count first last min max avg }`).join(" ")} } } }`;

  it("costs a series by its buckets (1 + buckets × its fields) and the days of its range", async () => {
    expect(await cost(series(1))).toBe(1 + 1 + 1 + 1000 * 7);
    expect(await cost(series(1, "2026-01-01T01:00:00Z", "PT15M"))).toBe(3 + 4 * 7);
    // More than 1,000 buckets is refused by the resolver; it never costs more than 1,000, and a year of range 365 more.
    expect(await cost(series(1, "2027-01-01T00:00:00Z"))).toBe(3 + 1000 * 7 + 365);
    // A single bucket over decades still reads every reading of them.
    expect(await cost(series(1, "2046-01-01T00:00:00Z", "P36500D"))).toBe(3 + 7 + MAX_SERIES_RANGE_COST);
    expect(MAX_COST).toBeGreaterThan(await cost(series(28)));
    expect(MAX_COST).toBeLessThan(await cost(series(30)));
  });

  it("costs signals by their codes, else by the signals a vehicle can have", async () => {
    expect(await cost(`{ vehicle(id: "v") { signals(codes: ["a", "b"]) { code value } } }`)).toBe(1 + 1 + 2 * 2);
    expect(await cost(`{ vehicle(id: "v") { signals { code value } } }`)).toBe(1 + 1 + SIGNALS_PER_VEHICLE * 2);
  });

  it("costs what arguments ask of the whole fleet: conditions, an ordering by a signal, counts, asOf", async () => {
    const page = (args: string) => cost(`{ vehicles(first: 1${args}) { edges { node { id } } } }`);
    const plain = await page("");
    expect(await page(`, where: { signals: [{ code: "a" }, { code: "b", gt: 1 }] }`)).toBe(plain + 2 * CONDITION_COST);
    expect(await page(`, where: { signals: [{ code: "a", near: { latitude: 0, longitude: 0, radiusMeters: 1 } }] }`)).toBe(plain + 2 * CONDITION_COST);
    expect(await page(`, orderBy: { signal: "a" }`)).toBe(plain + SIGNAL_ORDER_COST);
    expect(await cost(`{ vehicles(first: 1) { totalCount } }`)).toBe(1 + 1 + COUNT_COST);
    expect(await cost(`{ fleetSummary { vehicles } }`)).toBe(1 + 1 + COUNT_COST);
    const latest = await cost(`{ vehicle(id: "v") { signals(codes: ["a", "b"]) { code } } }`);
    expect(await cost(`{ vehicle(id: "v") { signals(codes: ["a", "b"], asOf: "2026-01-01T00:00:00Z") { code } } }`)).toBe(latest + 2 * AS_OF_COST_PER_SIGNAL);
  });

  it("counts a fragment each time it is spread", async () => {
    expect(await cost(`{ vehicle(id: "v") { ...F ...F } } fragment F on Vehicle { id make }`)).toBe(1 + 4);
    expect(await cost(`{ vehicle(id: "v") { ...F @skip(if: true) } } fragment F on Vehicle { id make }`)).toBe(1);
  });
});
