import type { DataSource, EntityManager } from "typeorm";
import { isLockNotAvailable } from "../db/pg-errors";
import type { Logger } from "../logger";
import { dropOldestExpiredMonth, ensureMonths, KEPT_PARTITION, REFERENCED, type EnsuredMonths } from "../signals/reading-partitions";

/** How long each kind of row is kept, in days; undefined keeps it forever (HISTORY_RETENTION_DAYS, RAW_EVENT_RETENTION_DAYS). */
export interface RetentionLimits {
  readonly historyDays: number | undefined;
  readonly rawEventDays: number | undefined;
}

export interface PurgeOptions {
  /** Rows deleted per statement: each is a short transaction, so ingestion never waits long on it. @default 5000 */
  readonly batchSize?: number;
  /** Pause between batches, ms, so a large backlog never hogs the database. @default 100 */
  readonly pauseMs?: number;
  /** The instant the limits count back from. @default now */
  readonly now?: Date;
  /** Checked between batches: true ends the run (the service is stopping). */
  readonly stopping?: () => boolean;
}

/** Rows deleted per table by one run; `skipped` when another instance held the purge lock. */
export interface PurgeResult {
  readonly signalReadings: number;
  readonly webhookEvents: number;
  readonly webhookRejections: number;
  readonly skipped: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * One batch per table. A reading is kept while the latest value (`signals`) is the one it recorded
 * (same vehicle, code and event): the `since` replay of subscriptions and a user's latest values after
 * a change of owner read it from history.
 *
 * The history goes a month partition at a time (dropOldestExpiredMonth, once the whole month is past
 * the limit); row by row only in the DEFAULT partition, which holds the readings a dropped month still
 * needed and archive re-applies older than every month (src/signals/reading-partitions.ts).
 */
const BATCHES = {
  signalReadings: `
    DELETE FROM ${KEPT_PARTITION} WHERE id = ANY(ARRAY(
      SELECT r.id FROM ${KEPT_PARTITION} r
       WHERE r.applied_at < $1 AND NOT ${REFERENCED("r")}
       LIMIT $2))`,
  webhookEvents: `DELETE FROM webhook_events WHERE id = ANY(ARRAY(SELECT id FROM webhook_events WHERE received_at < $1 LIMIT $2))`,
  webhookRejections: `DELETE FROM webhook_rejections WHERE id = ANY(ARRAY(SELECT id FROM webhook_rejections WHERE received_at < $1 LIMIT $2))`,
} as const;

/** Held for each batch's transaction: one instance purges at a time; another finding it taken stops its run. */
const PURGE_LOCK = `SELECT pg_try_advisory_xact_lock(hashtext('fleetgraph retention')) AS locked`;

/**
 * Deletes what is older than the limits, in batches of short transactions (never one long lock).
 * Stops early, with `skipped`, when another instance is purging.
 */
export async function purgeExpired(dataSource: DataSource, limits: RetentionLimits, options: PurgeOptions = {}): Promise<PurgeResult> {
  const batchSize = options.batchSize ?? 5000;
  const pauseMs = options.pauseMs ?? 100;
  const now = options.now ?? new Date();
  const counts = { signalReadings: 0, webhookEvents: 0, webhookRejections: 0 };
  const plan: Array<[keyof typeof counts, number | undefined]> = [
    ["signalReadings", limits.historyDays],
    ["webhookEvents", limits.rawEventDays],
    ["webhookRejections", limits.rawEventDays],
  ];
  for (const [table, days] of plan) {
    if (days === undefined || options.stopping?.()) continue;
    const before = new Date(now.getTime() - days * DAY_MS);
    if (table === "signalReadings") {
      // Whole months first, one per transaction, oldest first.
      for (;;) {
        const dropped = await lockedStep(dataSource, (manager) => dropOldestExpiredMonth(manager, before));
        if (dropped === "skipped") return { ...counts, skipped: true };
        if (dropped === undefined || options.stopping?.()) break;
        counts.signalReadings += dropped;
      }
    }
    for (;;) {
      const deleted = await dataSource.transaction(async (manager) => {
        const [{ locked }]: Array<{ locked: boolean }> = await manager.query(PURGE_LOCK);
        if (!locked) return undefined;
        const [, affected]: [unknown, number] = await manager.query(BATCHES[table], [before, batchSize]);
        return affected;
      });
      if (deleted === undefined) return { ...counts, skipped: true };
      counts[table] += deleted;
      if (deleted < batchSize || options.stopping?.()) break;
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
  return { ...counts, skipped: false };
}

/**
 * One partition step under the purge lock; "skipped" when another instance holds it, undefined when
 * there is nothing to drop or the partition lock was not granted in time (ingestion was busy: the
 * next run tries again, and the rows stay meanwhile).
 */
async function lockedStep(
  dataSource: DataSource,
  step: (manager: EntityManager) => Promise<number | undefined>,
): Promise<number | undefined | "skipped"> {
  try {
    return await dataSource.transaction(async (manager) => {
      const [{ locked }]: Array<{ locked: boolean }> = await manager.query(PURGE_LOCK);
      return locked ? step(manager) : "skipped";
    });
  } catch (error) {
    if (isLockNotAvailable(error)) return undefined;
    throw error;
  }
}

/** Says what ensureMonths did, when it did anything. */
export function logEnsured(logger: Logger, { created, skipped }: EnsuredMonths): void {
  if (created.length > 0) logger.info({ partitions: created }, "history: partitions created for the coming months");
  if (skipped.length > 0) {
    logger.warn({ partitions: skipped }, "history: months not created, their readings are already in the DEFAULT partition (purged row by row)");
  }
}

export interface RetentionJobOptions {
  readonly dataSource: () => DataSource | undefined;
  readonly limits: RetentionLimits;
  readonly logger: Logger;
  /** First run after start, ms. @default 60000 */
  readonly firstRunMs?: number;
  /** Between runs, ms. @default one hour */
  readonly everyMs?: number;
}

/**
 * Runs shortly after start, then every hour, in the background: creates the coming months' history
 * partitions (always, retention or not), then purgeExpired when a limit is set; logs what it did.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: RetentionJobOptions) {}

  get enabled(): boolean {
    return this.options.limits.historyDays !== undefined || this.options.limits.rawEventDays !== undefined;
  }

  start(): void {
    this.schedule(this.options.firstRunMs ?? 60_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.run().finally(() => this.schedule(this.options.everyMs ?? 60 * 60 * 1000));
    }, ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const dataSource = this.options.dataSource();
    if (!dataSource) return; // the database is down: the next run tries again
    const { logger } = this.options;
    try {
      logEnsured(logger, await ensureMonths(dataSource));
    } catch (error) {
      logger.warn({ err: error }, "history: creating the coming months' partitions failed; the next run tries again");
    }
    if (!this.enabled || this.stopped) return;
    try {
      const result = await purgeExpired(dataSource, this.options.limits, { stopping: () => this.stopped });
      if (result.skipped) logger.info(result, "retention: another instance is purging; this run stopped");
      else logger.info(result, "retention: purged expired rows");
    } catch (error) {
      logger.warn({ err: error }, "retention: purge failed; the next run tries again");
    }
  }
}
