import DataLoader from "dataloader";
import type { DataSource } from "typeorm";
import { canSee, scopeOf, type Viewer } from "../auth/viewer";
import type { IssueState } from "../issues/issue-state";
import type { VehicleIssue } from "../issues/vehicle-issue.entity";
import type { Signal } from "../signals/signal.entity";
import type { ChangeBus } from "./bus";
import type { IssueChanged, SignalChanged } from "./change";
import { ChangeStream, type StreamSource } from "./resumable";
import { issuesByChangeIds, replayIssues } from "../issues/issue-changes";
import { Semaphore } from "./semaphore";
import { replaySignals, signalsByReadingIds } from "../signals/signal-changes";

export interface FeedLimits {
  /** Live events one subscription may have waiting. @default 1_000 */
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

export interface SignalUpdatedFilter {
  readonly vehicleId?: string;
  readonly codes?: readonly string[];
  readonly since?: Date;
}

export interface IssueUpdatedFilter {
  readonly vehicleId?: string;
  readonly state?: IssueState;
  readonly since?: Date;
}

/** Bounded DataLoader cache: recent payloads only, the oldest dropped first (a Map iterates in insertion order). */
class RecentCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  set(key: K, value: V): void {
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
  delete(key: K): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
}

/**
 * This instance's subscriptions. Every subscriber hears every bus event and filters it in memory
 * (no query); the payload of a matching event is read once per instance, however many subscribers
 * want it, through loaders that batch one tick's ids into one query and cache recent payloads.
 * The payloads are immutable history (a reading, an issue change), so caching them is safe.
 */
export class ChangeFeed {
  private readonly streams = new Set<ChangeStream<unknown, unknown>>();
  private readonly maxQueue: number;
  private readonly maxReplay: number;
  private readonly replayPage: number;
  private readonly replays: Semaphore;
  private readonly signalLoader: DataLoader<string, Signal | undefined>;
  private readonly issueLoader: DataLoader<string, VehicleIssue | undefined>;

  constructor(
    private readonly bus: ChangeBus,
    private readonly dataSource: DataSource,
    limits: FeedLimits = {},
  ) {
    this.maxQueue = limits.maxQueue ?? 1_000;
    this.maxReplay = limits.maxReplay ?? 1_000;
    this.replayPage = limits.replayPage ?? 100;
    this.replays = new Semaphore(limits.concurrentReplays ?? 3);
    this.signalLoader = new DataLoader(
      async (ids) => {
        const found = await signalsByReadingIds(dataSource, ids);
        return ids.map((id) => found.get(id));
      },
      { cacheMap: new RecentCache(5_000), maxBatchSize: 1_000 },
    );
    this.issueLoader = new DataLoader(
      async (ids) => {
        const found = await issuesByChangeIds(dataSource, ids);
        return ids.map((id) => found.get(id));
      },
      { cacheMap: new RecentCache(5_000), maxBatchSize: 1_000 },
    );
  }

  /** Open subscriptions on this instance. */
  get size(): number {
    return this.streams.size;
  }

  signalUpdated(viewer: Viewer, filter: SignalUpdatedFilter, onOverflow: () => void): AsyncIterableIterator<Signal> {
    const codes = filter.codes ? new Set(filter.codes) : undefined;
    const source: StreamSource<SignalChanged, Signal> = {
      accept: (message) =>
        message.kind === "signal" &&
        canSee(viewer, message.userId) &&
        (filter.vehicleId === undefined || message.vehicleId === filter.vehicleId) &&
        (codes === undefined || codes.has(message.code))
          ? message
          : undefined,
      keyOf: (event) => event.readingId,
      load: (event) => this.signalLoader.load(event.readingId),
      replay: (since, after, limit) =>
        this.replays.run(() =>
          replaySignals(this.dataSource, { vehicleId: filter.vehicleId, codes: filter.codes, userId: scopeOf(viewer) }, since, limit, after),
        ),
    };
    return this.open(source, filter.since, onOverflow);
  }

  vehicleIssueUpdated(viewer: Viewer, filter: IssueUpdatedFilter, onOverflow: () => void): AsyncIterableIterator<VehicleIssue> {
    const source: StreamSource<IssueChanged, VehicleIssue> = {
      accept: (message) =>
        message.kind === "issue" &&
        canSee(viewer, message.userId) &&
        (filter.vehicleId === undefined || message.vehicleId === filter.vehicleId) &&
        (filter.state === undefined || message.state === filter.state)
          ? message
          : undefined,
      keyOf: (event) => event.changeId,
      load: (event) => this.issueLoader.load(event.changeId),
      replay: (since, after, limit) =>
        this.replays.run(() =>
          replayIssues(this.dataSource, { vehicleId: filter.vehicleId, state: filter.state, userId: scopeOf(viewer) }, since, limit, after),
        ),
    };
    return this.open(source, filter.since, onOverflow);
  }

  /**
   * Resolves once every change committed so far has been handed to its subscribers' sockets, or
   * after `timeoutMs`: shutdown sends in-flight events before closing.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.bus.flush(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    while (Date.now() < deadline && [...this.streams].some((stream) => !stream.idle)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private open<E, P>(source: StreamSource<E, P>, since: Date | undefined, onOverflow: () => void): ChangeStream<E, P> {
    const stream: ChangeStream<E, P> = new ChangeStream(source, {
      subscribe: (listener) => this.bus.subscribe(listener),
      since,
      maxQueue: this.maxQueue,
      maxReplay: this.maxReplay,
      replayPage: this.replayPage,
      onOverflow,
      onClose: () => this.streams.delete(stream as ChangeStream<unknown, unknown>),
    });
    this.streams.add(stream as ChangeStream<unknown, unknown>);
    return stream;
  }
}
