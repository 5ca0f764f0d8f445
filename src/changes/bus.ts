import type { Change, ChangePublisher } from "./change";

/**
 * Something a subscription should react to: a committed change, or `gap` when the bus may have
 * missed changes (its connection to the broker dropped). After a gap, subscribers catch up from the
 * database, from `since` on, de-duplicating what they already sent.
 */
export type BusMessage = Change | { readonly kind: "gap"; readonly since: Date };

export type BusListener = (message: BusMessage) => void;

/**
 * Carries committed changes from whichever instance applied them to the subscribers of every
 * instance. `publish` runs inside the applying transaction and must deliver only if it commits.
 * Engines: PostgreSQL LISTEN/NOTIFY (several instances) and in-process (embedded PGlite, one process);
 * a Redis or NATS engine would implement the same five methods.
 */
export interface ChangeBus extends ChangePublisher {
  start(): Promise<void>;
  /** Registers a listener on this instance; returns its removal. Listeners must not throw. */
  subscribe(listener: BusListener): () => void;
  /** Resolves once every change committed before the call has reached this instance's listeners. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** The local half every engine shares: listeners called in order, one failing listener never stops the rest. */
export class Fanout {
  private readonly listeners = new Set<BusListener>();

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  get size(): number {
    return this.listeners.size;
  }

  add(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(message: BusMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
