import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from "typeorm";
import type { Logger } from "../logger";
import { Fanout, type BusListener, type ChangeBus } from "./bus";
import type { Change } from "./change";

/**
 * In-process bus for the embedded PGlite, whose socket server does not forward NOTIFY to listening
 * connections (checked: a LISTENing `pg` client never receives one). Embedded mode is one process,
 * so this loses nothing. Changes published inside a transaction are held per transaction (and per
 * savepoint) and delivered only when the outermost transaction commits, like NOTIFY.
 */
export class LocalChangeBus implements ChangeBus {
  private readonly fanout: Fanout;
  /** Per open transaction, one frame of held changes per nesting level (savepoints). */
  private readonly pending = new WeakMap<QueryRunner, Change[][]>();
  private readonly hook: EntitySubscriberInterface;

  constructor(
    private readonly dataSource: DataSource,
    logger: Logger,
  ) {
    this.fanout = new Fanout((error) => logger.error({ err: error }, "subscription listener failed"));
    this.hook = {
      afterTransactionStart: ({ queryRunner }) => void this.frames(queryRunner).push([]),
      afterTransactionCommit: ({ queryRunner }) => this.committed(queryRunner),
      afterTransactionRollback: ({ queryRunner }) => void this.frames(queryRunner).pop(),
    };
  }

  async publish(manager: EntityManager, changes: readonly Change[]): Promise<void> {
    const frames = manager.queryRunner?.isTransactionActive ? this.pending.get(manager.queryRunner) : undefined;
    const frame = frames?.[frames.length - 1];
    if (frame) frame.push(...changes);
    else for (const change of changes) this.fanout.emit(change);
  }

  subscribe(listener: BusListener): () => void {
    return this.fanout.add(listener);
  }

  async start(): Promise<void> {
    // TypeORM broadcasts transaction events to the DataSource's subscribers, read on every broadcast.
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
    else for (const change of frame) this.fanout.emit(change);
  }
}
