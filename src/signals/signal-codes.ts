import { badUserInput } from "../graphql/errors";
import type { Work } from "../graphql/field-cost";

/** Most signal codes one `codes` argument may list, and the most signals a vehicle is assumed to have: Smartcar defines 93. */
export const MAX_CODES = 100;

/**
 * Checks a `codes` argument by hand, once per field or subscription: class-validator would run for
 * every vehicle of a page (and type-graphql validates a subscription's args on every event).
 */
export function checkCodes(codes: readonly string[] | null | undefined): readonly string[] | undefined {
  if (codes === null || codes === undefined) return undefined;
  if (codes.length > MAX_CODES) throw badUserInput(`codes may list at most ${MAX_CODES} signal codes`, "codes");
  return codes;
}

/** The signals a `signals(codes)` call returns, for the cost limit: its codes, else every signal a vehicle can have. */
export function signalsSize(args: Record<string, unknown>): number {
  const { codes } = args;
  return Array.isArray(codes) ? Math.min(codes.length, MAX_CODES) : MAX_CODES;
}

/**
 * `signals(asOf)`: each signal's value at that instant is a search of its history (in every monthly
 * partition), where the latest values are one row each.
 */
export const AS_OF_COST_PER_SIGNAL = 10;

export function asOfWork(args: Record<string, unknown>): Work {
  return args.asOf == null ? {} : { cost: AS_OF_COST_PER_SIGNAL * signalsSize(args) };
}
