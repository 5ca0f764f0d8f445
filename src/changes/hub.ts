import DataLoader from "dataloader";
import { LRUCache } from "lru-cache";
import type { DataSource } from "typeorm";
import { withDeadline } from "../deadline";
import type { ChangeBus } from "./bus";
import { ResumableStream, type StreamSource } from "./resumable";
import { Semaphore } from "./semaphore";

export interface HubLimits {
  /** Live changes one subscription may have waiting. @default 1_000 */
  readonly maxQueue?: number;
  /** Most changes one `since` replay sends; a longer one ends with REPLAY_TOO_LONG after them. @default 1_000 */
  readonly maxReplay?: number;
  /** Rows a replay reads per query, and so holds per subscriber. @default 100 */
  readonly replayPage?: number;
  /**
   * Replay queries running at once in this process; the others wait. A few, so that many clients
   * resuming together leave the pool's other connections to ingestion. @default 3
   */
  readonly concurrentReplays?: number;
}

/** Reads the payloads of some keys (reading ids, issue change ids); a missing key's row is gone. */
export type PayloadReader<P> = (dataSource: DataSource, keys: readonly string[]) => Promise<Map<string, P>>;

/**
 * This instance's subscriptions. Every subscriber hears every bus message and filters it in memory
 * (no query); the payload of a matching change is read once per instance, however many subscribers
 * want it, through loaders that batch one tick's keys into one query and keep recent payloads.
 * Payloads are immutable history (a reading, an issue change), so keeping them is safe.
 */
export class Hub {
  private readonly streams = new Set<ResumableStream<unknown, unknown>>();
  private readonly loaders = new Map<PayloadReader<unknown>, DataLoader<string, unknown>>();
  private readonly replays: Semaphore;

  constructor(
    private readonly bus: ChangeBus,
    /** Where features read payloads and replays. */
    readonly dataSource: DataSource,
    private readonly limits: HubLimits = {},
  ) {
    this.replays = new Semaphore(limits.concurrentReplays ?? 3);
  }

  /** The instance-wide loader of `read`'s payloads: one per reader, shared by every subscriber. */
  payloads<P>(read: PayloadReader<P>): DataLoader<string, P | undefined> {
    let loader = this.loaders.get(read);
    if (!loader) {
      loader = new DataLoader(
        async (keys: readonly string[]) => {
          const found = await read(this.dataSource, keys);
          return keys.map((key) => found.get(key));
        },
        { cacheMap: new LRUCache<string, Promise<unknown>>({ max: 5_000 }), maxBatchSize: 1_000 },
      );
      this.loaders.set(read, loader);
    }
    return loader as DataLoader<string, P | undefined>;
  }

  /** Runs one replay query once a replay slot is free. */
  replay<T>(query: () => Promise<T>): Promise<T> {
    return this.replays.run(query);
  }

  /** A subscription's stream: what happened since `since` (if given) from the database, then live changes. */
  open<E, P>(source: StreamSource<E, P>, since: Date | undefined, onOverflow: () => void): AsyncIterableIterator<P> {
    const stream: ResumableStream<E, P> = new ResumableStream(source, {
      subscribe: (listener) => this.bus.subscribe(listener),
      since,
      maxQueue: this.limits.maxQueue ?? 1_000,
      maxReplay: this.limits.maxReplay ?? 1_000,
      replayPage: this.limits.replayPage ?? 100,
      onOverflow,
      onClose: () => this.streams.delete(stream as ResumableStream<unknown, unknown>),
    });
    this.streams.add(stream as ResumableStream<unknown, unknown>);
    return stream;
  }

  /**
   * Resolves once every change committed so far has been handed to its subscribers' sockets, or
   * after `timeoutMs`: shutdown sends in-flight changes before closing.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await withDeadline(this.bus.flush(), timeoutMs, () => new Error("bus flush timed out")).catch(() => undefined);
    while (Date.now() < deadline && [...this.streams].some((stream) => !stream.idle)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
