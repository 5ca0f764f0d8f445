import { Extensions, Field, Int, ObjectType, registerEnumType, type ClassType } from "type-graphql";
import { countWork, WORK } from "./field-cost";
import { encodeCursor, type CursorKey } from "./cursor";

/** Relay `first`: default page size and the most one page may hold (contract: 20 and 100). */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export enum SortDirection {
  ASC = "ASC",
  DESC = "DESC",
}
registerEnumType(SortDirection, { name: "SortDirection" });

@ObjectType({ description: "Relay page information (forward pagination)" })
export class PageInfo {
  @Field({ description: "True when a page follows this one" })
  hasNextPage: boolean;

  @Field({ description: "True when `after` was given (this is not the first page)" })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: "Pass as `after` to get the next page" })
  endCursor: string | null;
}

/** What a service returns for one page: the rows (one more than asked for, to know if more follow) and their sort keys. */
export interface PageRows<T> {
  /** `raw`: the row as the statement returned it, with any extra columns (see keysetPage). */
  readonly rows: ReadonlyArray<{ node: T; key: CursorKey; raw?: Readonly<Record<string, unknown>> }>;
  /** Counted only when a client asks for `totalCount`. */
  readonly count: () => Promise<number>;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface ConnectionShape<T> {
  edges: Array<Edge<T>>;
  pageInfo: PageInfo;
  count: () => Promise<number>;
}

/**
 * Turns `first + 1` fetched rows into a Relay page. `kind` makes the cursors specific to the list
 * and its ordering (see cursor.ts).
 */
export function toConnection<T>(page: PageRows<T>, first: number, kind: string, after: string | undefined): ConnectionShape<T> {
  // Cursors are encoded when asked for: a page of 100 usually wants none but the last (pageInfo).
  const edges = page.rows.slice(0, first).map(({ node, key }): Edge<T> => ({
    node,
    get cursor() {
      return encodeCursor(kind, key);
    },
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.rows.length > first,
      hasPreviousPage: after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    count: page.count,
  };
}

/**
 * A Relay connection type for `node` named `<name>Connection` with `<name>Edge` edges. `totalCount`
 * is a method so the COUNT query only runs when a client selects it.
 */
export function Connection<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class EdgeType implements Edge<T> {
    @Field({ description: "Opaque; pass as `after` to continue after this edge" })
    cursor: string;

    @Field(() => node)
    node: T;
  }

  // Never referenced itself (only its subclass is), so type-graphql leaves it out of the schema.
  @ObjectType(`${name}ConnectionBase`)
  abstract class ConnectionType implements ConnectionShape<T> {
    @Field(() => [EdgeType])
    edges: EdgeType[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    count: () => Promise<number>;

    @Field(() => Int, { description: "How many items match, over all pages (for this viewer)" })
    @Extensions({ [WORK]: countWork })
    totalCount(): Promise<number> {
      return this.count();
    }
  }

  return ConnectionType;
}
