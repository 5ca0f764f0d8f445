import { graphqlErrorOf } from "./errors";
import { ErrorCode } from "../error-codes";
import { AppError } from "../errors";
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isCompositeType,
  isLeafType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from "graphql";
import type { ApolloServerPlugin } from "@apollo/server";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./connection";
import { LIST_SIZE, WORK, type ListSize, type WorkOf } from "./field-cost";

/** Deepest field nesting an operation may have (introspection fields are not counted). */
export const MAX_DEPTH = 12;
/**
 * Highest estimated cost: a page of 100 vehicles with all their signals (each with a short history),
 * errors and issues fits; 100 vehicles × their signals × 100-reading histories (≈ 5,000,000) does not,
 * nor do a few dozen 1,000-bucket series.
 */
export const MAX_COST = 200_000;
/** Items assumed in a list nothing else bounds (a vehicle's errors and issues, an issue's episodes). */
export const ASSUMED_LIST_SIZE = 10;
/**
 * Most filter conditions one operation may hold, over all its fields: each one is a subquery the
 * database plans and runs over the caller's whole fleet, however small the page it filters.
 */
export const MAX_CONDITIONS = 20;

/** Costs are capped here while summing, so a product never becomes Infinity or NaN (0 × Infinity). */
const COST_CEILING = Number.MAX_SAFE_INTEGER;

/** What an operation, or a part of it, asks for: its estimated cost and the filter conditions it holds. */
export interface OperationCost {
  readonly cost: number;
  readonly conditions: number;
}
const NOTHING: OperationCost = { cost: 0, conditions: 0 };
const capped = (n: number) => Math.min(n, COST_CEILING);
const plus = (a: OperationCost, b: OperationCost): OperationCost => ({ cost: capped(a.cost + b.cost), conditions: capped(a.conditions + b.conditions) });
const times = (factor: number, a: OperationCost): OperationCost => ({ cost: capped(factor * a.cost), conditions: capped(factor * a.conditions) });

type Fragments = ReadonlyMap<string, FragmentDefinitionNode>;

function fragmentsOf(document: DocumentNode): Fragments {
  return new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
}

/**
 * Depth of an operation, counting fields through fragments. Each fragment is measured once and
 * remembered, so a fragment spread many times (even `...F` twice in each of 21 nested fragments)
 * costs one visit: the walk is linear in the document.
 */
export function operationDepth(document: DocumentNode, operation: OperationDefinitionNode): number {
  const fragments = fragmentsOf(document);
  const measured = new Map<string, number>();
  const visiting = new Set<string>();

  const depthOf = (selectionSet: SelectionSetNode | undefined): number => {
    if (!selectionSet) return 0;
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith("__")) continue;
        deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet));
      } else {
        deepest = Math.max(deepest, fragmentDepth(selection.name.value));
      }
    }
    return deepest;
  };

  const fragmentDepth = (name: string): number => {
    const known = measured.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    // A fragment cycle is a validation error reported elsewhere; do not recurse forever here.
    if (!fragment || visiting.has(name)) return 0;
    visiting.add(name);
    const depth = depthOf(fragment.selectionSet);
    visiting.delete(name);
    measured.set(name, depth);
    return depth;
  };

  return depthOf(operation.selectionSet);
}

const isConnection = (field: GraphQLField<unknown, unknown>) => getNamedType(field.type).name.endsWith("Connection");

/** The items of a page a connection field asks for, from its `first`. */
function pageSizeOf(args: Record<string, unknown>): number {
  // A page holds at most MAX_PAGE_SIZE (more is refused per field); never below zero, so a negative
  // `first` cannot offset its siblings' cost.
  const { first } = args;
  return typeof first === "number" ? Math.min(Math.max(first, 0), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
}

/**
 * How many items a list field can return, from its arguments, or undefined for "not a sized list".
 * A connection's `edges` hold its page (`page`: the size its connection field asked for); its
 * `totalCount` and `pageInfo` come once.
 */
function listSize(field: GraphQLField<unknown, unknown>, args: () => Record<string, unknown>, page: number | undefined): number | undefined {
  const named = getNamedType(field.type);
  if (named.name.endsWith("Edge")) return page;
  const declared = field.extensions?.[LIST_SIZE];
  if (typeof declared === "function") return Math.max((declared as ListSize)(args()), 0);
  if (isListType(getNullableType(field.type)) && !isLeafType(named)) return ASSUMED_LIST_SIZE;
  return undefined;
}

function metaField(parent: GraphQLCompositeType, schema: GraphQLSchema, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return undefined;
}

/**
 * Estimated cost of an operation: every field costs 1 plus its children; a field returning a list
 * multiplies its children by what it can return: a connection's edges by its `first`, `series` by its bucket
 * count, `Vehicle.signals` by its `codes` (each as its LIST_SIZE extension says), any other list of objects by
 * ASSUMED_LIST_SIZE. A field's arguments add the work they ask for (its WORK extension: filter
 * conditions, orderings, counts, ranges). So nesting pages inside pages grows the cost the way it grows
 * the work. A fragment is costed once and remembered (its cost does not depend on where it is spread),
 * so the walk is linear in the document. Fields skipped by `@skip`/`@include` cost nothing.
 *
 * Throws GraphQLError for arguments that cannot be coerced.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variableValues: Record<string, unknown>,
): OperationCost {
  const fragments = fragmentsOf(document);
  /** By fragment name and the page size its connection asked for (when spread in a connection). */
  const costs = new Map<string, OperationCost>();
  const visiting = new Set<string>();

  const skipped = (node: SelectionNode): boolean => {
    if (!node.directives?.length) return false;
    const skip = getDirectiveValues(GraphQLSkipDirective, node, variableValues);
    const include = getDirectiveValues(GraphQLIncludeDirective, node, variableValues);
    return skip?.if === true || include?.if === false;
  };

  /** `page`: inside a connection, the page size it asked for, which its `edges` hold. */
  const selectionCost = (selectionSet: SelectionSetNode | undefined, parent: GraphQLCompositeType, page?: number): OperationCost => {
    if (!selectionSet) return NOTHING;
    let total = NOTHING;
    for (const selection of selectionSet.selections) {
      if (skipped(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        total = plus(total, fieldCost(selection, parent, page));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) total = plus(total, selectionCost(selection.selectionSet, type, page));
      } else {
        total = plus(total, fragmentCost(selection.name.value, page));
      }
    }
    return total;
  };

  const fieldCost = (node: FieldNode, parent: GraphQLCompositeType, page: number | undefined): OperationCost => {
    const name = node.name.value;
    const field = metaField(parent, schema, name) ?? (isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined);
    // Unknown fields fail validation; they cost nothing here.
    if (!field) return NOTHING;
    const type = getNamedType(field.type);
    let args: Record<string, unknown> | undefined;
    const argsOf = () => (args ??= getArgumentValues(field, node, variableValues));
    const children = isCompositeType(type) ? selectionCost(node.selectionSet, type, isConnection(field) ? pageSizeOf(argsOf()) : undefined) : NOTHING;
    const size = listSize(field, argsOf, page);
    const declared = field.extensions?.[WORK];
    const work = typeof declared === "function" ? (declared as WorkOf)(argsOf()) : {};
    const own = { cost: 1 + Math.max(work.cost ?? 0, 0), conditions: Math.max(work.conditions ?? 0, 0) };
    return plus(own, times(size ?? 1, children));
  };

  const fragmentCost = (name: string, page: number | undefined): OperationCost => {
    const key = page === undefined ? name : `${name}\n${page}`;
    const known = costs.get(key);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    // A fragment cycle is a validation error reported elsewhere.
    if (!fragment || visiting.has(name)) return NOTHING;
    const type = schema.getType(fragment.typeCondition.name.value);
    if (!type || !isCompositeType(type)) return NOTHING;
    visiting.add(name);
    const cost = selectionCost(fragment.selectionSet, type, page);
    visiting.delete(name);
    costs.set(key, cost);
    return cost;
  };

  const root = schema.getRootType(operation.operation);
  return root ? selectionCost(operation.selectionSet, root) : NOTHING;
}

/** The estimated cost alone (see measureOperation). */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variableValues: Record<string, unknown>,
): number {
  return measureOperation(schema, document, operation, variableValues).cost;
}

const depths = new WeakMap<OperationDefinitionNode, number>();
/** Costs of operations whose cost reads no variable (a schema per process: the key needs no schema). */
const constantCosts = new WeakMap<OperationDefinitionNode, OperationCost>();

/** `values`, and whether anything read one of them since (graphql-js tests `hasOwnProperty`, then reads). */
function watchReads(values: Record<string, unknown>): { values: Record<string, unknown>; readonly any: boolean } {
  let any = false;
  const watched = new Proxy(values, {
    get: (target, key) => ((any = true), Reflect.get(target, key)),
    has: (target, key) => ((any = true), Reflect.has(target, key)),
    getOwnPropertyDescriptor: (target, key) => ((any = true), Reflect.getOwnPropertyDescriptor(target, key)),
  });
  return {
    values: watched,
    get any() {
      return any;
    },
  };
}

function limitError(message: string, code: ErrorCode, extensions: Record<string, number>): GraphQLError {
  // 400 like other request errors: nothing was executed.
  return graphqlErrorOf(new AppError(400, code, message), extensions);
}

function badInput(message: string): GraphQLError {
  return graphqlErrorOf(new AppError(400, ErrorCode.BAD_USER_INPUT, message));
}

/**
 * Checks depth and estimated cost of a validated operation, before anything executes (so before
 * any SQL). Returns the error to answer with, or undefined. Usable by any transport. Runs in time
 * linear in the document (plus its variables).
 */
export function checkOperationLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): GraphQLError | undefined {
  // Parsed documents are cached (Apollo's document store), so an operation node comes back with every
  // request of the same query: its depth is measured once, and so is its cost when no variable changes it.
  let depth = depths.get(operation);
  if (depth === undefined) depths.set(operation, (depth = operationDepth(document, operation)));
  if (depth > MAX_DEPTH) {
    return limitError(`query is ${depth} levels deep; at most ${MAX_DEPTH} are allowed`, ErrorCode.QUERY_TOO_DEEP, { depth, maxDepth: MAX_DEPTH });
  }
  let measured = constantCosts.get(operation);
  if (measured === undefined) {
    // Variables are coerced as execution will coerce them; a bad variable is the client's mistake.
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
    if (coerced.errors) return badInput(coerced.errors[0].message);
    const reads = watchReads(coerced.coerced);
    try {
      measured = measureOperation(schema, document, operation, reads.values);
    } catch (error) {
      if (error instanceof GraphQLError) return badInput(error.message);
      throw error;
    }
    // No variable sizes a list or decides a directive here (`vehicle(id: $id)`): every request of this
    // operation costs the same, and its variables are left to execution to coerce, as it does anyway.
    if (!reads.any) constantCosts.set(operation, measured);
  }
  const { cost, conditions } = measured;
  if (conditions > MAX_CONDITIONS) {
    const message = `query holds ${conditions} filter conditions (each list item and alias counted); at most ${MAX_CONDITIONS} are allowed in one operation`;
    return limitError(message, ErrorCode.QUERY_TOO_COMPLEX, { conditions, maxConditions: MAX_CONDITIONS });
  }
  if (cost > MAX_COST) {
    const shown = cost >= COST_CEILING ? `over ${COST_CEILING}` : String(cost);
    return limitError(`query cost is estimated at ${shown}; at most ${MAX_COST} is allowed (ask for smaller pages)`, ErrorCode.QUERY_TOO_COMPLEX, {
      cost,
      maxCost: MAX_COST,
    });
  }
  return undefined;
}

/**
 * Apollo plugin: refuses what HTTP cannot run (subscriptions go over WebSocket) and too deep or too costly operations, once they are parsed and validated, before
 * execution.
 */
export function queryLimitsPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          // Apollo resolves the operation before this hook; without one it has already answered.
          if (!operation) return;
          if (operation.operation === "subscription") throw operationNotSupported();
          const error = checkOperationLimits(schema, document, operation, request.variables);
          if (error) throw error;
        },
      };
    },
  };
}

function operationNotSupported(): GraphQLError {
  const message = "subscriptions are served over WebSocket (graphql-ws, protocol graphql-transport-ws) at this same path, not over HTTP";
  return graphqlErrorOf(new AppError(400, ErrorCode.OPERATION_NOT_SUPPORTED, message));
}
