import {
  EventSubscriber,
  type EntityManager,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
  type TransactionStartEvent,
} from "typeorm";

/**
 * Work held until the transaction it belongs to commits, and dropped if it rolls back: what counts or
 * announces committed rows (a metric, the in-process change bus). One frame per nesting level of each
 * query runner's transaction: a released savepoint hands its work to the enclosing transaction, a
 * rolled-back one drops it, and the outermost commit runs it.
 */
const frames = new WeakMap<QueryRunner, Array<Array<() => void>>>();

function stack(queryRunner: QueryRunner): Array<Array<() => void>> {
  let held = frames.get(queryRunner);
  if (!held) frames.set(queryRunner, (held = []));
  return held;
}

/** Follows every transaction of a DataSource (createDataSource lists it; TypeORM instantiates it). */
@EventSubscriber()
export class AfterCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionStart({ queryRunner }: TransactionStartEvent): void {
    stack(queryRunner).push([]);
  }

  afterTransactionCommit({ queryRunner }: TransactionCommitEvent): void {
    const held = stack(queryRunner);
    const frame = held.pop() ?? [];
    if (held.length > 0) held[held.length - 1].push(...frame);
    else for (const work of frame) work();
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    stack(queryRunner).pop();
  }
}

/** Runs `work` once `manager`'s transaction commits (never if it rolls back); at once outside a transaction. */
export function afterCommit(manager: EntityManager, work: () => void): void {
  const queryRunner = manager.queryRunner;
  const held = queryRunner?.isTransactionActive ? frames.get(queryRunner) : undefined;
  const frame = held?.[held.length - 1];
  if (frame) frame.push(work);
  else work();
}
