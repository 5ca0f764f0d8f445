import "reflect-metadata";
import fc from "fast-check";
import { getOperationAST, Kind, parse, validate, type ASTNode, type DocumentNode } from "graphql";
import { checkDocumentSource } from "../../src/graphql/document-limits";
import { checkOperationLimits } from "../../src/graphql/query-limits";
import { buildAppSchema } from "../../src/api/schema";
import { graphqlVariables, wellFormedDocument } from "../helpers/graphql-documents";

/**
 * A copy of `document` whose selection sets count how often their selections are read: the work
 * of a walk over the document, measured without a clock.
 */
function instrumented(document: DocumentNode): { document: DocumentNode; selectionSets: number; reads: () => number } {
  let reads = 0;
  let selectionSets = 0;
  const copy = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(copy);
    if (value === null || typeof value !== "object") return value;
    const node = Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, key === "loc" ? undefined : copy(inner)]));
    if ((value as ASTNode).kind !== Kind.SELECTION_SET) return node;
    selectionSets++;
    return new Proxy(node, {
      get(target, key, receiver) {
        if (key === "selections") reads++;
        return Reflect.get(target, key, receiver);
      },
    });
  };
  return { document: copy(document) as DocumentNode, selectionSets, reads: () => reads };
}

/** The red team's document, with `levels` fragments each spreading the next twice. */
function fragmentBomb(levels: number): string {
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
  return `{ ...F0 } ${fragments.join(" ")} fragment F${levels} on Query { __typename }`;
}

describe("limit checks work in time linear in the document", () => {
  const schema = buildAppSchema();

  it.each([10, 21, 40])("visits each selection set of a %i-level fragment bomb at most twice (depth, then cost)", async (levels) => {
    const { document, selectionSets, reads } = instrumented(parse(fragmentBomb(levels)));
    const error = checkOperationLimits(await schema, document, getOperationAST(document)!, undefined);
    // 2^levels fields once expanded: 1,024 fit, 2 million do not.
    expect(error?.extensions.code).toBe(levels > 17 ? "QUERY_TOO_COMPLEX" : undefined);
    expect(reads()).toBeLessThanOrEqual(2 * selectionSets);
  });

  it("holds for generated documents: fragments, aliases, nesting, spreads, arguments, page sizes", async () => {
    const resolved = await schema;
    let slowest = 0;
    fc.assert(
      fc.property(wellFormedDocument, graphqlVariables, (source, variables) => {
        const started = performance.now();
        if (checkDocumentSource(source)) return; // refused before parsing, like HTTP does
        const parsed = parse(source, { maxTokens: 10_000 });
        validate(resolved, parsed); // graphql-js's own rules, bounded by the token limit and their budgets
        const { document, selectionSets, reads } = instrumented(parsed);
        const operation = getOperationAST(document, "Q");
        if (!operation) return;
        // Never throws: a refusal is a GraphQLError with a known code.
        const error = checkOperationLimits(resolved, document, operation, variables);
        if (error) expect(["QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX", "BAD_USER_INPUT"]).toContain(error.extensions.code);
        expect(reads()).toBeLessThanOrEqual(2 * selectionSets);
        slowest = Math.max(slowest, performance.now() - started);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) },
    );
    // Not a benchmark: a generous bound that a super-linear walk of these documents would blow through.
    expect(slowest).toBeLessThan(5_000);
  });
});
