import type { EntityManager } from "typeorm";
import { afterCommit } from "../db/after-commit";
import type { Logger } from "../logger";
import { Fanout, type BusListener, type ChangeBus } from "./bus";
import type { Change } from "./change";

/**
 * In-process bus for the embedded PGlite, whose socket server does not forward NOTIFY to listening
 * connections (checked: a LISTENing `pg` client never receives one). Embedded mode is one process,
 * so this loses nothing. Changes published inside a transaction are held until the outermost
 * transaction commits (afterCommit), like NOTIFY, and dropped if it rolls back.
 */
export class LocalChangeBus implements ChangeBus {
  private readonly fanout: Fanout;

  constructor(logger: Logger) {
    this.fanout = new Fanout((error) => logger.error({ err: error }, "subscription listener failed"));
  }

  async publish(manager: EntityManager, changes: readonly Change[]): Promise<void> {
    afterCommit(manager, () => {
      for (const change of changes) this.fanout.emit(change);
    });
  }

  subscribe(listener: BusListener): () => void {
    return this.fanout.add(listener);
  }

  async start(): Promise<void> {}

  /** Delivery is synchronous on commit: nothing can be in flight. */
  async flush(): Promise<void> {}

  async stop(): Promise<void> {}
}
