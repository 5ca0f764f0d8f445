import type { FieldNode, GraphQLResolveInfo } from "graphql";
import { childSets, fieldsIn, type Fragments } from "../graphql/selection";
import type { Vehicle } from "./vehicle.entity";

/**
 * Something another feature reads for each vehicle, fetched in the vehicle's own statement when the
 * query asks for it (a look-ahead): `vehicle(id) { signals }` or a page of vehicles with their
 * signals costs one statement, not one for the vehicles and one more for what hangs off them.
 * Only a shortcut: without it the feature's own loader fetches the same rows.
 */
export interface VehicleInclude {
  /** Whether this Vehicle field asks for what the include fetches. */
  wants(field: FieldNode): boolean;
  /** What to fetch for `fields` (every selection of a Vehicle field it wants, fragments in `fragments`). */
  plan(fields: readonly FieldNode[], fragments: Fragments): IncludePlan;
}

export interface IncludePlan {
  /** Equal for plans that fetch the same. */
  readonly key: string;
  /**
   * One SQL value per vehicle row `v` (JSON); `scope` is the SQL parameter holding the user a viewer is
   * limited to, or undefined when the viewer sees every user's rows.
   */
  sql(scope: string | undefined): string;
  /**
   * Hands one vehicle's fetched value to the feature, which keeps it with that Vehicle object: the
   * object answers only the selections the plan was made for (another selection of the same vehicle
   * is another object, from another loader or page).
   */
  use(vehicle: Vehicle, value: unknown): void;
}

// Registered by the schema's assembly (src/api/schema.ts): features that read per vehicle know vehicles, never the reverse.
const registered: VehicleInclude[] = [];

export function registerVehicleInclude(include: VehicleInclude): void {
  if (!registered.includes(include)) registered.push(include);
}

/**
 * The plans of the includes that the Vehicle selections under `info`'s field ask for, following `path`
 * (e.g. `edges`, `node` for a connection), through fragments.
 */
export function includesFor(info: GraphQLResolveInfo, path: readonly string[] = []): IncludePlan[] {
  if (registered.length === 0) return [];
  // Parsed documents are cached (Apollo's document store), so the same field node comes back with every
  // request of the same query: its plans are made once. Several merged nodes depend on the variables
  // (@skip on one of them): planned each time.
  if (info.fieldNodes.length !== 1) return plan(info, path);
  const key = path.join(".");
  let known = planned.get(info.fieldNodes[0]);
  if (!known) planned.set(info.fieldNodes[0], (known = new Map()));
  let plans = known.get(key);
  if (!plans) known.set(key, (plans = plan(info, path)));
  return plans;
}

const planned = new WeakMap<FieldNode, Map<string, IncludePlan[]>>();

function plan(info: GraphQLResolveInfo, path: readonly string[]): IncludePlan[] {
  let fields = fieldsIn(info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : [])), info.fragments);
  for (const name of path) fields = fieldsIn(childSets(fields, name), info.fragments);
  return registered.flatMap((include) => {
    const wanted = fields.filter((field) => include.wants(field));
    return wanted.length === 0 ? [] : [include.plan(wanted, info.fragments)];
  });
}

/** Hands each plan's value in `row` (columns named by includeColumn) to its feature. */
export function useIncludes(plans: readonly IncludePlan[], vehicle: Vehicle, row: Readonly<Record<string, unknown>>): void {
  plans.forEach((plan, index) => plan.use(vehicle, row[includeColumn(index)]));
}

/** The name of the plan at `index` among a statement's columns. */
export const includeColumn = (index: number): string => `include${index}`;
