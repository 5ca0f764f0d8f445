import type { DataSource, EntityManager } from "typeorm";
import { afterCommit } from "../db/after-commit";
import type { Logger } from "../logger";
import type { BusMessage, Change, ChangeBus } from "./change";
import { PostgresChangeBus } from "./postgres-bus";

/**
 * LISTEN/NOTIFY when the database is a real PostgreSQL server; the in-process bus when it is the
 * embedded PGlite (also when reached through DATABASE_URL, as the tests do), which cannot deliver
 * NOTIFY to another connection.
 */
export async function createChangeBus(dataSource: DataSource, logger: Logger): Promise<ChangeBus> {
  const [{ version }]: Array<{ version: string }> = await dataSource.query("SELECT version()");
  const { url } = dataSource.options as { url?: string };
  if (/PGlite/i.test(version) || url === undefined) {
    logger.info("subscriptions: in-process change bus (embedded PostgreSQL is a single process)");
    return new LocalChangeBus();
  }
  logger.info("subscriptions: PostgreSQL LISTEN/NOTIFY change bus");
  return new PostgresChangeBus({ url, dataSource, logger });
}

/**
 * In-process bus for the embedded PGlite, whose socket server does not forward NOTIFY to listening
 * connections (checked: a LISTENing `pg` client never receives one). Embedded mode is one process,
 * so this loses nothing. Changes published inside a transaction are held until the outermost
 * transaction commits (afterCommit), like NOTIFY, and dropped if it rolls back.
 */
export class LocalChangeBus implements ChangeBus {
  private deliver: (message: BusMessage) => void = () => {};

  async publish(manager: EntityManager, changes: readonly Change[]): Promise<void> {
    afterCommit(manager, () => {
      for (const change of changes) this.deliver(change);
    });
  }

  async start(deliver: (message: BusMessage) => void): Promise<void> {
    this.deliver = deliver;
  }

  /** Delivery is synchronous on commit: nothing can be in flight. */
  async flush(): Promise<void> {}

  async stop(): Promise<void> {}
}
