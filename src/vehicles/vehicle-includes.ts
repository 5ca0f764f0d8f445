import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";
import type { Context } from "../graphql/context";

/**
 * Something another feature reads for each vehicle, fetched in the vehicle's own statement when the
 * query asks for it (a look-ahead): `vehicle(id) { signals }` or a page of vehicles with their
 * signals costs one statement, not one for the vehicles and one more for what hangs off them.
 * Only a shortcut: without it (a fragment spread, a field with other arguments) the feature's own
 * loader fetches the same rows.
 */
export interface VehicleInclude {
  /** Unique among the includes. */
  readonly name: string;
  /** Whether this selection of a Vehicle field asks for what the include fetches. */
  wants(field: FieldNode): boolean;
  /**
   * One SQL value per vehicle row `v` (JSON); `scope` is the SQL parameter holding the user a viewer is
   * limited to, or undefined when the viewer sees every user's rows.
   */
  sql(scope: string | undefined): string;
  /** Hands one vehicle's fetched value to the feature (it primes its loader with it). */
  use(ctx: Context, vehicleId: string, value: unknown): void;
}

// Registered by the schema's assembly (src/api/schema.ts): features that read per vehicle know vehicles, never the reverse.
const registered: VehicleInclude[] = [];

export function registerVehicleInclude(include: VehicleInclude): void {
  if (!registered.includes(include)) registered.push(include);
}

/**
 * The includes the Vehicle selections under `info`'s field ask for, following `path` (e.g. `edges`,
 * `node` for a connection). Fields are looked at directly and in inline fragments; fragment spreads
 * and `@skip`/`@include` are left to the loaders.
 */
export function includesFor(info: GraphQLResolveInfo, path: readonly string[] = []): VehicleInclude[] {
  if (registered.length === 0) return [];
  let sets: SelectionSetNode[] = info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  for (const name of path) sets = fieldsOf(sets).flatMap((field) => (field.name.value === name && field.selectionSet ? [field.selectionSet] : []));
  const fields = fieldsOf(sets);
  return registered.filter((include) => fields.some((field) => !field.directives?.length && include.wants(field)));
}

function fieldsOf(sets: readonly SelectionSetNode[]): FieldNode[] {
  const fields: FieldNode[] = [];
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT && !selection.directives?.length) visit(selection.selectionSet);
    }
  };
  sets.forEach(visit);
  return fields;
}

/** Hands each include's value in `row` (columns `include0`, `include1` … as `columns` named them) to its feature. */
export function useIncludes(ctx: Context, includes: readonly VehicleInclude[], vehicleId: string, row: Record<string, unknown>): void {
  includes.forEach((include, index) => include.use(ctx, vehicleId, row[includeColumn(index)]));
}

/** The name of the include at `index` among a statement's columns. */
export const includeColumn = (index: number): string => `include${index}`;
