/** What a feature tells the cost limit (query-limits.ts) about its fields, as type-graphql `@Extensions`. */

/**
 * The extension a feature sets on a list field that returns a number of items its arguments tell
 * (`@Extensions({ [LIST_SIZE]: (args) => n })`): a series its buckets, a vehicle's signals its codes.
 */
export const LIST_SIZE = "listSize";
export type ListSize = (args: Record<string, unknown>) => number;
/**
 * The extension a feature sets on a field whose arguments ask the database for work its items do not
 * show (`@Extensions({ [WORK]: (args) => ({ cost, conditions }) })`): a filter condition is a subquery
 * over the whole fleet, an ordering by a signal a join, a count a pass over every row it counts. The
 * cost is added to the field's own, once for each time the field is resolved (so a filter inside a list
 * costs for each item); `conditions` counts towards MAX_CONDITIONS, the same way.
 */
export const WORK = "work";
export interface Work {
  readonly cost?: number;
  /** Filter conditions (each its own subquery). */
  readonly conditions?: number;
}
export type WorkOf = (args: Record<string, unknown>) => Work;

/** A count over every item a viewer may see (a connection's `totalCount`, a summary's counts): as much as a page of 100. */
export const COUNT_COST = 100;
export const countWork: WorkOf = () => ({ cost: COUNT_COST });
