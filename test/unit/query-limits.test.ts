import { parse, type OperationDefinitionNode } from "graphql";
import { buildAppSchema } from "../../src/api/schema";
import { checkOperationLimits, MAX_COST, MAX_DEPTH, operationCost, operationDepth } from "../../src/graphql/query-limits";
import { MAX_CODES as SIGNALS_PER_VEHICLE } from "../../src/signals/signal-codes";

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

  it("costs a series by its buckets: 1 + buckets × its fields", async () => {
    expect(await cost(series(1))).toBe(1 + 1 + 1 + 1000 * 7);
    expect(await cost(series(1, "2026-01-01T01:00:00Z", "PT15M"))).toBe(3 + 4 * 7);
    // More than 1,000 buckets is refused by the resolver; it never costs more than 1,000.
    expect(await cost(series(1, "2027-01-01T00:00:00Z"))).toBe(3 + 1000 * 7);
    expect(MAX_COST).toBeGreaterThan(await cost(series(28)));
    expect(MAX_COST).toBeLessThan(await cost(series(30)));
  });

  it("costs signals by their codes, else by the signals a vehicle can have", async () => {
    expect(await cost(`{ vehicle(id: "v") { signals(codes: ["a", "b"]) { code value } } }`)).toBe(1 + 1 + 2 * 2);
    expect(await cost(`{ vehicle(id: "v") { signals { code value } } }`)).toBe(1 + 1 + SIGNALS_PER_VEHICLE * 2);
  });

  it("counts a fragment each time it is spread", async () => {
    expect(await cost(`{ vehicle(id: "v") { ...F ...F } } fragment F on Vehicle { id make }`)).toBe(1 + 4);
    expect(await cost(`{ vehicle(id: "v") { ...F @skip(if: true) } } fragment F on Vehicle { id make }`)).toBe(1);
  });
});
