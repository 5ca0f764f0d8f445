import { parse, type OperationDefinitionNode } from "graphql";
import { buildAppSchema } from "../../src/api/schema";
import { checkOperationLimits, MAX_DEPTH, operationDepth } from "../../src/graphql/query-limits";

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
