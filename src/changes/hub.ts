import DataLoader from "dataloader";
import { LRUCache } from "lru-cache";
import type { DataSource } from "typeorm";
import type { Viewer } from "../auth/viewer";
import { withDeadline } from "../deadline";
import { ErrorCode } from "../error-codes";
import { AppError } from "../errors";
import { graphqlErrorOf } from "../graphql/errors";
import type { BusMessage, ChangeBus } from "./change";
import { ResumableSubscription, type ResumableLimits, type SubscriptionSource } from "./resumable";

/** Defaults: 1,000 queued changes, 1,000 replayed rows in pages of 100, 3 concurrent replays. */
export interface HubLimits extends Partial<ResumableLimits> {
  /**
   * Replay queries running at once in this process; the others wait. A few, so that many clients
   * resuming together leave the pool's other connections to ingestion.
   */
  readonly concurrentReplays?: number;
}

/** Reads the payloads of some keys (reading ids, issue change ids); a missing key's row is gone. */
export type PayloadReader<P> = (dataSource: DataSource, keys: readonly string[]) => Promise<Map<string, P>>;

/**
 * This instance's subscriptions, fed by the bus. Every subscription hears every bus message and
 * filters it in memory (no query); the payload of a matching change is read once per instance, however
 * many subscribers want it, through loaders that batch one tick's keys into one query and keep recent
 * payloads. Payloads are immutable history (a reading, an issue change), so keeping them is safe, and
 * every subscriber of a change gets the same payload object (the transport shares work by it).
 */
export class Hub {
  private readonly subscriptions = new Set<ResumableSubscription<unknown, unknown>>();
  private readonly loaders = new Map<PayloadReader<unknown>, DataLoader<string, unknown>>();
  private readonly replays: Semaphore;
  private readonly limits: Required<HubLimits>;
  private coalesced: (count: number) => void = () => {};

  constructor(
    private readonly bus: ChangeBus,
    /** Where features read payloads and replays. */
    readonly dataSource: DataSource,
    limits: HubLimits = {},
  ) {
    this.limits = { maxQueue: 1_000, maxReplay: 1_000, replayPage: 100, concurrentReplays: 3, ...limits };
    this.replays = new Semaphore(this.limits.concurrentReplays);
  }

  /** Starts the bus, delivering to this hub. */
  start(): Promise<void> {
    return this.bus.start((message) => this.fanOut(message));
  }

  /** Hands a bus message to every subscription (each filters it; none throws). */
  fanOut(message: BusMessage): void {
    for (const subscription of this.subscriptions) subscription.receive(message);
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

  /** Calls `listener` with the changes each coalescing leaves out (ResumableSubscription): for the metrics. */
  onCoalesced(listener: (count: number) => void): void {
    this.coalesced = listener;
  }

  /**
   * A subscription: what happened since `since` (if given) from the database, then live changes.
   * `onOverflow` says whether its client was dropped for not reading (see ResumableOptions).
   */
  open<E, P>(source: SubscriptionSource<E, P>, since: Date | undefined, onOverflow: () => boolean): AsyncIterableIterator<P> {
    const subscription: ResumableSubscription<E, P> = new ResumableSubscription(source, this.limits, {
      since,
      onOverflow,
      onCoalesced: (count) => this.coalesced(count),
      onClose: () => this.subscriptions.delete(subscription as ResumableSubscription<unknown, unknown>),
    });
    this.subscriptions.add(subscription as ResumableSubscription<unknown, unknown>);
    return subscription;
  }

  /**
   * Resolves once every change committed so far has been handed to its subscribers' sockets, or
   * after `timeoutMs`: shutdown sends in-flight changes before closing.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await withDeadline(this.bus.flush(), timeoutMs, () => new Error("bus flush timed out")).catch(() => undefined);
    while (Date.now() < deadline && [...this.subscriptions].some((subscription) => !subscription.idle)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * At most `permits` tasks at once; the others wait their turn, first come first served. Used so that
 * however many clients resume at once, replays hold only a few of the database pool's connections.
 */
export class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly permits: number) {}

  /** Tasks waiting for a permit. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.permits) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The permit passes straight to the next in line, or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** What the WebSocket transport adds to the context of each operation on a connection. */
export interface LiveConnection {
  readonly hub: Hub;
  /**
   * A subscription has more changes queued than it may: disconnects this client if its own socket
   * backs up (it does not read) and returns true; false when its socket keeps up (the server is behind).
   */
  dropSlowClient(): boolean;
}

export interface LiveInput {
  readonly viewer: Viewer;
  readonly live: LiveConnection;
}

/** The caller and its connection, from a subscription's context; subscriptions exist only over WebSocket. */
export function liveInputOf(context: unknown): LiveInput {
  const input = context as Partial<LiveInput> | undefined;
  if (!input?.live || !input.viewer) {
    throw graphqlErrorOf(new AppError(400, ErrorCode.OPERATION_NOT_SUPPORTED, "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql"));
  }
  return { viewer: input.viewer, live: input.live };
}
