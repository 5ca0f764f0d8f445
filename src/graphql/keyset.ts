import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { SortDirection, type PageRows } from "./connection";
import type { CursorKey } from "./cursor";

/** How a list is ordered for keyset pagination: an optional timestamp or number column, then a unique id. */
export interface KeysetOrder {
  /** A column or expression (e.g. `v.last_seen_at`); without one the id alone orders the list. */
  readonly column?: string;
  /** The column's SQL type. @default timestamptz */
  readonly columnType?: "timestamptz" | "float8";
  /**
   * The column may be null: rows without a value come last in either direction (their cursor key is
   * the empty string). @default false
   */
  readonly nullsLast?: boolean;
  /** The unique id column that makes the order total, so cursors are stable. */
  readonly id: string;
  /** The id's SQL type, for comparing it with the cursor's text. */
  readonly idType: "text" | "uuid";
  readonly direction: SortDirection;
}

/**
 * One page of `filtered` in `order`, after the row whose key is `after`: `first + 1` rows (one more
 * tells whether a page follows) and a count that runs only when asked for. Rows are found by
 * comparing with the last key (`(column, id) > (…)`), never by OFFSET, so rows added elsewhere never
 * shift a page, and a page deep in the list costs what the first one does.
 */
export async function keysetPage<T extends ObjectLiteral>(
  filtered: SelectQueryBuilder<T>,
  order: KeysetOrder,
  first: number,
  after: CursorKey | undefined,
  /**
   * Makes a node of a raw row, for a query whose select the caller chose: TypeORM's entity mapping is
   * then skipped (most of a 100-row page's time in TypeORM). Without it, the entities TypeORM maps.
   */
  hydrate?: (raw: Record<string, unknown>) => T,
): Promise<PageRows<T>> {
  const dir = order.direction === SortDirection.DESC ? "DESC" : "ASC";
  const cmp = dir === "DESC" ? "<" : ">";
  const id = `CAST(:afterId AS ${order.idType})`;
  const query = filtered.clone();
  if (order.column && order.nullsLast) {
    // Selected and ordered by as the same expression, so PostgreSQL computes it once per row.
    const column = order.column;
    query.addSelect(column, "sort_key").orderBy(column, dir, "NULLS LAST").addOrderBy(order.id, dir);
    if (after?.[0] === "") query.andWhere(`${column} IS NULL AND ${order.id} ${cmp} ${id}`, { afterId: after[1] });
    else if (after) {
      const afterKey = `CAST(:afterKey AS ${order.columnType ?? "timestamptz"})`;
      query.andWhere(`(${column} IS NULL OR (${column}, ${order.id}) ${cmp} (${afterKey}, ${id}))`, { afterKey: after[0], afterId: after[1] });
    }
  } else if (order.column) {
    // Timestamps go into cursors as PostgreSQL text, which keeps their microseconds.
    query.addSelect(`${order.column}::text`, "sort_key").orderBy(order.column, dir).addOrderBy(order.id, dir);
    if (after) {
      const afterKey = `CAST(:afterKey AS ${order.columnType ?? "timestamptz"})`;
      query.andWhere(`(${order.column}, ${order.id}) ${cmp} (${afterKey}, ${id})`, { afterKey: after[0], afterId: after[1] });
    }
  } else {
    query.orderBy(order.id, dir);
    if (after) query.andWhere(`${order.id} ${cmp} ${id}`, { afterId: after[0] });
  }
  type Raw = { sort_key?: string | number | null } & Record<string, unknown>;
  query.limit(first + 1);
  let entities: T[];
  let raw: Raw[];
  if (hydrate) {
    raw = await query.getRawMany<Raw>();
    entities = raw.map(hydrate);
  } else {
    ({ entities, raw } = await query.getRawAndEntities<Raw>());
  }
  return {
    rows: entities.map((node, index) => ({ node, key: order.column ? [sortKeyText(raw[index].sort_key), node.id] : [node.id], raw: raw[index] })),
    count: () => filtered.getCount(),
  };
}

/**
 * A sort key as cursor text: timestamps arrive as PostgreSQL text, numbers as JavaScript numbers
 * (whose shortest round-trip text casts back to the same float8), and a missing value as "".
 */
function sortKeyText(key: string | number | null | undefined): string {
  return key === null || key === undefined ? "" : String(key);
}
