import type { DataSource } from "typeorm";
import type { Viewer } from "../auth/viewer";
import type { Logger } from "../logger";

/** What the transport knows about an operation (HTTP request or WebSocket subscription). */
export interface ContextInput {
  readonly viewer: Viewer;
  readonly dataSource: DataSource;
  readonly logger: Logger;
}

/** Per-operation GraphQL context, built by `createContext` for each HTTP request and each subscription event. */
export interface Context extends ContextInput {
  /** When the operation started: ages and open durations in one answer are measured from the same instant. */
  readonly now: Date;
}

/**
 * Builds the context of one operation. Fields added to ContextInput by a transport pass through
 * unchanged. Cheap: each feature creates its loaders on first use (see perOperation).
 */
export function createContext<T extends ContextInput>(input: T): T & Context {
  return { ...input, now: new Date() };
}

/**
 * Something a feature creates once per operation, on first use: its DataLoaders, whose caches must
 * never outlive one operation (nor serve a subscription's next event). Keyed by the context object,
 * which is fresh for every operation and event.
 */
export function perOperation<T>(create: (context: Context) => T): (context: Context) => T {
  const made = new WeakMap<Context, T>();
  return (context) => {
    let value = made.get(context);
    if (value === undefined) made.set(context, (value = create(context)));
    return value;
  };
}
