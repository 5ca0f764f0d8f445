import type { Work } from "../graphql/field-cost";

/** Most buckets one `series` may return. */
export const MAX_SERIES_BUCKETS = 1000;

/** Widest bucket: 100 years of days, far inside PostgreSQL's interval range (an error beyond it). */
export const MAX_INTERVAL_SECONDS = 36_525 * 86_400;

/**
 * Parses a bucket width for `Signal.series`: an ISO-8601 duration in whole days, hours, minutes and
 * seconds (`PT15M`, `PT1H`, `P1D`, `P1DT12H`). Months and years have no fixed length, so they are
 * refused. Returns seconds, or undefined when the text is not such a duration, is zero or is longer
 * than MAX_INTERVAL_SECONDS.
 */
export function parseIntervalSeconds(text: string): number | undefined {
  const duration = text.trim().toUpperCase();
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  // The pattern also matches the empty forms "P" and "P…T", which ISO-8601 does not allow.
  if (!match || duration === "P" || duration.endsWith("T")) return undefined;
  const [, days, hours, minutes, seconds] = match;
  const total = Number(days ?? 0) * 86_400 + Number(hours ?? 0) * 3_600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0);
  return total > 0 && total <= MAX_INTERVAL_SECONDS ? total : undefined;
}

/** How many buckets of `intervalSeconds` cover [from, to): the last one may reach past `to`. */
export function bucketCount(from: Date, to: Date, intervalSeconds: number): number {
  return Math.ceil((to.getTime() - from.getTime()) / (intervalSeconds * 1000));
}

/** The buckets a `series` call returns, for the cost limit; the most allowed when its arguments cannot tell (it is then refused anyway). */
export function seriesSize(args: Record<string, unknown>): number {
  const { from, to, interval } = args;
  const seconds = typeof interval === "string" ? parseIntervalSeconds(interval) : undefined;
  const end = to instanceof Date ? to : new Date();
  if (!(from instanceof Date) || seconds === undefined) return MAX_SERIES_BUCKETS;
  const buckets = bucketCount(from, end, seconds);
  return Number.isFinite(buckets) ? Math.min(Math.max(buckets, 0), MAX_SERIES_BUCKETS) : MAX_SERIES_BUCKETS;
}

/**
 * A series reads every reading of its range, however few buckets it makes of them: a day of range costs
 * 1 (a vehicle reports a signal some tens of times a day), up to ten years' worth.
 */
export const MAX_SERIES_RANGE_COST = 3_650;

/** What a `series` call reads beyond the buckets it returns (the cost limit's WORK extension). */
export function seriesWork(args: Record<string, unknown>): Work {
  const { from, to } = args;
  if (!(from instanceof Date)) return {};
  const days = Math.floor(((to instanceof Date ? to : new Date()).getTime() - from.getTime()) / 86_400_000);
  return { cost: Number.isFinite(days) ? Math.min(Math.max(days, 0), MAX_SERIES_RANGE_COST) : MAX_SERIES_RANGE_COST };
}
