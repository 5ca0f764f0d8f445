import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from "typeorm";
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
    return new LocalChangeBus(dataSource);
  }
  logger.info("subscriptions: PostgreSQL LISTEN/NOTIFY change bus");
  return new PostgresChangeBus({ url, dataSource, logger });
}

/**
 * In-process bus for the embedded PGlite, whose socket server does not forward NOTIFY to listening
 * connections (checked: a LISTENing `pg` client never receives one). Embedded mode is one process,
 * so this loses nothing. Changes published inside a transaction are held per transaction (and per
 * savepoint) and delivered only when the outermost transaction commits, like NOTIFY.
 */
export class LocalChangeBus implements ChangeBus {
  private deliver: (message: BusMessage) => void = () => {};
  /** Per open transaction, one frame of held changes per nesting level (savepoints). */
  private readonly pending = new WeakMap<QueryRunner, Change[][]>();
  private readonly hook: EntitySubscriberInterface = {
    afterTransactionStart: ({ queryRunner }) => void this.frames(queryRunner).push([]),
    afterTransactionCommit: ({ queryRunner }) => this.committed(queryRunner),
    afterTransactionRollback: ({ queryRunner }) => void this.frames(queryRunner).pop(),
  };

  constructor(private readonly dataSource: DataSource) {}

  async publish(manager: EntityManager, changes: readonly Change[]): Promise<void> {
    const frames = manager.queryRunner?.isTransactionActive ? this.pending.get(manager.queryRunner) : undefined;
    const frame = frames?.[frames.length - 1];
    if (frame) frame.push(...changes);
    else for (const change of changes) this.deliver(change);
  }

  async start(deliver: (message: BusMessage) => void): Promise<void> {
    this.deliver = deliver;
    // TypeORM calls the DataSource's subscribers (a list it reads each time) on every transaction start, commit and rollback.
    this.dataSource.subscribers.push(this.hook);
  }

  /** Delivery is synchronous on commit: nothing can be in flight. */
  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    const index = this.dataSource.subscribers.indexOf(this.hook);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
  }

  private frames(queryRunner: QueryRunner): Change[][] {
    let frames = this.pending.get(queryRunner);
    if (!frames) this.pending.set(queryRunner, (frames = []));
    return frames;
  }

  private committed(queryRunner: QueryRunner): void {
    const frames = this.frames(queryRunner);
    const frame = frames.pop() ?? [];
    // A released savepoint hands its changes to the enclosing transaction; the outermost commit delivers.
    if (frames.length > 0) frames[frames.length - 1].push(...frame);
    else for (const change of frame) this.deliver(change);
  }
}
