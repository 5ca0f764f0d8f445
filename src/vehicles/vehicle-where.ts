import { Field, Float, InputType } from "type-graphql";
import { badUserInput } from "../graphql/errors";
import type { Work } from "../graphql/field-cost";
import { MAX_CONDITIONS } from "../graphql/query-limits";
import { JSONScalar } from "../graphql/scalars";
import { EARTH_RADIUS_METERS, type CheckedCondition } from "./vehicle-signal-filter";

/**
 * The cost of one condition: a subquery run for every vehicle of the caller's fleet (a user's: a lookup
 * each; every vehicle: a pass over the kind's index), whatever the page size; as much as a page of
 * 100 vehicles with ten fields each. `near` computes a great-circle distance for each location the
 * bounding box lets through, which a large radius makes every one: twice that.
 */
export const CONDITION_COST = 1_000;
/** Ordering by a signal: its value looked up for every vehicle of the fleet, then sorted. */
export const SIGNAL_ORDER_COST = 1_000;
/** Half the Earth's circumference: a larger radius holds the whole planet. */
const MAX_RADIUS_METERS = Math.PI * EARTH_RADIUS_METERS;
const MAX_CODE_LENGTH = 200;

@InputType({ description: "A circle on the Earth's surface: great-circle distance from its centre" })
export class Near {
  @Field(() => Float, { description: "Degrees, -90 to 90" })
  latitude: number;

  @Field(() => Float, { description: "Degrees, -180 to 180" })
  longitude: number;

  @Field(() => Float, { description: `Meters, more than 0 and at most ${Math.floor(MAX_RADIUS_METERS)}` })
  radiusMeters: number;
}

@InputType({ description: "On a vehicle's latest value of one signal; every given test holds. Only `code`: the vehicle has a value for it" })
export class SignalCondition {
  @Field({ description: "Smartcar signal code, e.g. tractionbattery-stateofcharge" })
  code: string;

  @Field(() => Float, { nullable: true, description: "NUMBER values less than this" })
  lt?: number | null;

  @Field(() => Float, { nullable: true, description: "NUMBER values at most this" })
  lte?: number | null;

  @Field(() => Float, { nullable: true, description: "NUMBER values greater than this" })
  gt?: number | null;

  @Field(() => Float, { nullable: true, description: "NUMBER values at least this" })
  gte?: number | null;

  @Field(() => JSONScalar, { nullable: true, description: 'NUMBER, BOOLEAN or TEXT values equal to this: 20, true, "CHARGING"' })
  equals?: unknown;

  @Field(() => Near, { nullable: true, description: "LOCATION values within this circle" })
  near?: Near | null;
}

@InputType({ description: "Conditions on vehicles; all of them hold" })
export class VehicleWhere {
  @Field(() => [SignalCondition], {
    nullable: true,
    description: `On latest signal values, all at once (at most ${MAX_CONDITIONS} conditions in one operation, over all its fields)`,
  })
  signals?: SignalCondition[] | null;
}

const BOUNDS = ["lt", "lte", "gt", "gte"] as const;

/** What `vehicles(where, orderBy)` asks of the database beyond its page (the cost limit's WORK extension). */
export function vehiclesWork(args: Record<string, unknown>): Work {
  const { where, orderBy } = args as { where?: { signals?: unknown } | null; orderBy?: { signal?: unknown } | null };
  const conditions = Array.isArray(where?.signals) ? (where.signals as Array<{ near?: unknown } | null>) : [];
  const conditionCost = conditions.reduce((sum, condition) => sum + (condition?.near == null ? CONDITION_COST : 2 * CONDITION_COST), 0);
  return { cost: conditionCost + (orderBy?.signal == null ? 0 : SIGNAL_ORDER_COST), conditions: conditions.length };
}

/**
 * Checks `where` before any SQL: BAD_USER_INPUT naming the argument for a condition that cannot
 * hold a value of any one kind (bounds with a text, `near` with bounds) or is out of range.
 */
export function checkWhere(where: VehicleWhere | null | undefined): CheckedCondition[] {
  // How many there may be is the cost limit's to say (MAX_CONDITIONS), for the whole operation.
  const conditions = where?.signals ?? [];
  return conditions.map((condition, index) => checkCondition(condition, `where.signals[${index}]`));
}

function checkCondition(condition: SignalCondition, at: string): CheckedCondition {
  const { code } = condition;
  if (code.length === 0 || code.length > MAX_CODE_LENGTH) throw badUserInput(`\`${at}.code\` must be 1 to ${MAX_CODE_LENGTH} characters`, `${at}.code`);
  const bounds = Object.fromEntries(BOUNDS.filter((bound) => condition[bound] != null).map((bound) => [bound, condition[bound] as number]));
  const hasBounds = Object.keys(bounds).length > 0;
  const equals = condition.equals ?? undefined;
  if (condition.near != null) {
    if (hasBounds || equals !== undefined) {
      throw badUserInput(`\`${at}.near\` tests a LOCATION and cannot be combined with lt, lte, gt, gte or equals`, `${at}.near`);
    }
    return { code, test: { kind: "near", ...checkNear(condition.near, `${at}.near`) } };
  }
  if (equals === undefined) return { code, test: hasBounds ? { kind: "number", ...bounds } : { kind: "any" } };
  if (typeof equals === "number") return { code, test: { kind: "number", ...bounds, equals } };
  if (typeof equals !== "boolean" && typeof equals !== "string") {
    throw badUserInput(`\`${at}.equals\` must be a number, a boolean or a string`, `${at}.equals`);
  }
  if (hasBounds) throw badUserInput(`\`${at}.equals\` is a ${typeof equals}, but lt, lte, gt and gte test numbers`, `${at}.equals`);
  return { code, test: typeof equals === "boolean" ? { kind: "boolean", equals } : { kind: "text", equals } };
}

function checkNear(near: Near, at: string): Near {
  if (Math.abs(near.latitude) > 90) throw badUserInput(`\`${at}.latitude\` must be -90 to 90`, `${at}.latitude`);
  if (Math.abs(near.longitude) > 180) throw badUserInput(`\`${at}.longitude\` must be -180 to 180`, `${at}.longitude`);
  if (!(near.radiusMeters > 0) || near.radiusMeters > MAX_RADIUS_METERS) {
    throw badUserInput(`\`${at}.radiusMeters\` must be more than 0 and at most ${Math.floor(MAX_RADIUS_METERS)}`, `${at}.radiusMeters`);
  }
  return { latitude: near.latitude, longitude: near.longitude, radiusMeters: near.radiusMeters };
}
