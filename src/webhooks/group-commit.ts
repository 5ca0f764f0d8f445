import { ServiceUnavailable } from "../errors";

export interface GroupCommitOptions<T, R> {
  /** Applies items in one transaction; the outcomes in item order. */
  readonly commit: (items: readonly T[]) => Promise<R[]>;
  /** Whether a failed batch may succeed item by item; false when the database itself failed (every item would). */
  readonly retryAlone: (error: unknown) => boolean;
  /** Most items in one batch. */
  readonly maxBatch: number;
  /** Most items waiting for a batch; more are refused with QueueFull. */
  readonly maxWaiting: number;
  /** Batches committing at once (each holds a database connection). */
  readonly maxInFlight: number;
  /** Each item is answered within this many ms of its submission, if need be with ServiceUnavailable. */
  readonly deadlineMs: number;
}

/** The queue of items waiting for a batch is full: answered 503 (or spooled), so the caller retries. */
export class QueueFull extends ServiceUnavailable {
  constructor() {
    super("too many deliveries waiting, retry later", 1);
  }
}

interface Waiting<T, R> {
  readonly item: T;
  settled: boolean;
  readonly timer: NodeJS.Timeout;
  resolve(outcome: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit: items that arrive while earlier batches commit wait, then go together, up to maxBatch,
 * in one transaction. One commit (one fsync, one NOTIFY) then answers many deliveries, and each is
 * answered only after its own commit. A batch that fails is retried item by item, so one item that
 * cannot be applied fails alone, never its neighbours.
 */
export class GroupCommit<T, R> {
  private waiting: Array<Waiting<T, R>> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: GroupCommitOptions<T, R>) {}

  submit(item: T): Promise<R> {
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(new QueueFull());
    return new Promise<R>((resolve, reject) => {
      const entry: Waiting<T, R> = {
        item,
        settled: false,
        // Past the deadline the caller gets its 503 (or the spool); an item still waiting is withdrawn.
        // One already in a batch is abandoned, not cancelled: if it commits after all, a retry is a duplicate.
        timer: setTimeout(() => {
          this.waiting = this.waiting.filter((other) => other !== entry);
          settle(entry, () => reject(new ServiceUnavailable("database too slow to answer, retry later")));
        }, this.options.deadlineMs),
        resolve: (outcome) => settle(entry, () => resolve(outcome)),
        reject: (error) => settle(entry, () => reject(error)),
      };
      this.waiting.push(entry);
      this.schedule();
    });
  }

  /** Items of the same tick join the same batch: start batches on the next turn of the event loop. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startBatches();
    });
  }

  private startBatches(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.startBatches();
      });
    }
  }

  private async run(batch: Array<Waiting<T, R>>): Promise<void> {
    const { commit, retryAlone } = this.options;
    try {
      const outcomes = await commit(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => entry.resolve(outcomes[index]));
    } catch (error) {
      if (batch.length === 1 || !retryAlone(error)) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      for (const entry of batch) {
        if (entry.settled) continue;
        try {
          const [outcome] = await commit([entry.item]);
          entry.resolve(outcome);
        } catch (single) {
          entry.reject(single);
        }
      }
    }
  }
}

function settle<T, R>(entry: Waiting<T, R>, answer: () => void): void {
  if (entry.settled) return;
  entry.settled = true;
  clearTimeout(entry.timer);
  answer();
}
