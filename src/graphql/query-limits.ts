import {
  getNamedType,
  GraphQLError,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  isListType,
  getNullableType,
  isLeafType,
} from "graphql";
import type { ApolloServerPlugin } from "@apollo/server";
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity";
import { DEFAULT_PAGE_SIZE } from "./connection";

/** Deepest field nesting an operation may have (introspection fields are not counted). */
export const MAX_DEPTH = 12;
/**
 * Highest estimated cost: a page of 100 vehicles with their signals, errors, issues and a short
 * history each fits; 100 vehicles × their signals × 100-reading histories (≈ 400,000) does not.
 */
export const MAX_COST = 50_000;
/** Items assumed in a list that has no `first` (a vehicle's signals, errors, issues; a series). */
export const ASSUMED_LIST_SIZE = 10;

/**
 * Every field costs 1 plus its children; a connection multiplies its children by `first` (edges
 * themselves add no factor), any other list of objects by ASSUMED_LIST_SIZE. So nesting pages
 * inside pages grows the cost the way it grows the work.
 */
export const costEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const named = getNamedType(field.type);
  if (named.name.endsWith("Connection")) {
    // Never below zero: a negative `first` (refused later, per field) must not offset its siblings' cost.
    const first = typeof args.first === "number" ? Math.max(args.first, 0) : DEFAULT_PAGE_SIZE;
    return 1 + first * childComplexity;
  }
  if (isListType(getNullableType(field.type)) && !isLeafType(named) && !named.name.endsWith("Edge")) {
    return 1 + ASSUMED_LIST_SIZE * childComplexity;
  }
  return 1 + childComplexity;
};

function depthOf(
  selectionSet: SelectionSetNode | undefined,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visiting: ReadonlySet<string>,
): number {
  if (!selectionSet) return 0;
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith("__")) continue;
      deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, fragments, visiting));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments, visiting));
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      // A fragment cycle is a validation error reported elsewhere; do not recurse forever here.
      if (!fragment || visiting.has(name)) continue;
      deepest = Math.max(deepest, depthOf(fragment.selectionSet, fragments, new Set([...visiting, name])));
    }
  }
  return deepest;
}

/** Depth of an operation, counting fields through fragments. */
export function operationDepth(document: DocumentNode, operation: OperationDefinitionNode): number {
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  return depthOf(operation.selectionSet, fragments, new Set());
}

function limitError(message: string, code: string, extensions: Record<string, number>): GraphQLError {
  // 400 like other request errors: nothing was executed.
  return new GraphQLError(message, { extensions: { code, ...extensions, http: { status: 400 } } });
}

/**
 * Checks depth and estimated cost of a validated operation, before anything executes (so before
 * any SQL). Returns the error to answer with, or undefined. Usable by any transport.
 */
export function checkOperationLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): GraphQLError | undefined {
  const depth = operationDepth(document, operation);
  if (depth > MAX_DEPTH) {
    return limitError(`query is ${depth} levels deep; at most ${MAX_DEPTH} are allowed`, "QUERY_TOO_DEEP", { depth, maxDepth: MAX_DEPTH });
  }
  let cost: number;
  try {
    cost = getComplexity({ schema, query: document, operationName: operation.name?.value, variables: variables ?? {}, estimators: [costEstimator] });
  } catch (error) {
    // getComplexity coerces the variables first; a bad variable is the client's mistake.
    if (error instanceof GraphQLError) return new GraphQLError(error.message, { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });
    throw error;
  }
  if (cost > MAX_COST) {
    return limitError(`query cost is estimated at ${cost}; at most ${MAX_COST} is allowed (ask for smaller pages)`, "QUERY_TOO_COMPLEX", {
      cost,
      maxCost: MAX_COST,
    });
  }
  return undefined;
}

/** Apollo plugin: refuses too deep or too costly operations once they are parsed and validated, before execution. */
export function queryLimitsPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          // Apollo resolves the operation before this hook; without one it has already answered.
          if (!operation) return;
          const error = checkOperationLimits(schema, document, operation, request.variables);
          if (error) throw error;
        },
      };
    },
  };
}
