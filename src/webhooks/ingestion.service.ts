import type { DataSource } from "typeorm";
import { withDeadline } from "../deadline";
import { isDatabaseUnavailable, isRetryableTransactionError } from "../db/pg-errors";
import { ServiceUnavailable } from "../errors";
import type { Logger } from "../logger";
import type { Spool } from "./spool";
import { applyDeliveries, type ApplyOptions } from "./apply-deliveries";
import { GroupCommit, QueueFull } from "./group-commit";
import type { DeliveryOutcome, IncomingDelivery } from "./incoming-delivery";

const MAX_ATTEMPTS = 3;
/**
 * PostgreSQL gives up waiting for a lock at this share of the apply timeout (5 s of the default 8 s),
 * so a delivery stuck behind a locked vehicle gets a clean 503 before the deadline cuts its connection.
 */
const LOCK_SHARE = 5 / 8;

export interface IngestionOptions extends ApplyOptions {
  /** Told the size of every batch applied in one transaction (a metric). */
  readonly onBatch?: (size: number) => void;
  /** Bound on one apply, whatever the network does; past it the delivery is spooled or answered 503. */
  readonly applyTimeoutMs: number;
  /** SPOOL_DIR: where deliveries go while the database cannot take them; without it they get 503. */
  readonly spool?: Spool;
  readonly logger: Logger;
  /** Group commit: most deliveries in one transaction, most waiting for one, transactions at once. */
  readonly batching: { readonly maxBatch: number; readonly maxWaiting: number; readonly maxInFlight: number };
}

/** A delivery stored in the spool, applied later: answered 202. */
export interface SpooledOutcome {
  readonly status: "spooled";
  readonly eventId: string;
}

export type IngestionOutcome = DeliveryOutcome | SpooledOutcome;

/**
 * Applies deliveries in one transaction each batch, and keeps the raw bodies of those it must refuse.
 * With a spool, a delivery the database cannot take in time is appended to it instead; while the
 * database is known to be unreachable, deliveries go straight to the spool (no one waits for a timeout)
 * until the drain's next attempt gets through.
 */
export class IngestionService {
  private spooling = false;
  private readonly group: GroupCommit<IncomingDelivery, DeliveryOutcome>;

  constructor(
    /** The database once it is connected and ready; undefined while it is not (only with a spool). */
    private readonly dataSource: () => DataSource | undefined,
    private readonly options: IngestionOptions,
  ) {
    this.group = new GroupCommit({
      ...options.batching,
      deadlineMs: options.applyTimeoutMs,
      commit: (items) => this.commit(items),
      // A database that is down or too slow fails every delivery alone too: no point retrying them one by one.
      retryAlone: (error) => !this.isUnreachable(error),
    });
  }

  /**
   * Applies deliveries, each committed before it is answered, grouped with those arriving at the same
   * time (group commit); or spools them when the database is unreachable, too slow or too busy and a
   * spool is configured. Without a spool, such a failure propagates and the HTTP layer answers 503
   * (Smartcar retries). Other errors always propagate.
   */
  async apply(batch: readonly IncomingDelivery[]): Promise<IngestionOutcome[]> {
    const { spool } = this.options;
    // The drain probes the database while anything waits in the spool, and clears `spooling` when it answers.
    if (spool && this.spooling && spool.depth > 0) return this.toSpool(spool, batch);
    try {
      return await Promise.all(batch.map((item) => this.group.submit(item)));
    } catch (error) {
      if (!this.isUnreachable(error)) throw error;
      // A full queue says the service is busy, not that the database is gone.
      if (!(error instanceof QueueFull)) this.setSpooling(true);
      if (!spool) throw error;
      return this.toSpool(spool, batch);
    }
  }

  /** One group-commit batch: one transaction. */
  private async commit(batch: readonly IncomingDelivery[]): Promise<DeliveryOutcome[]> {
    const ds = this.dataSource();
    if (!ds) throw new ServiceUnavailable("database not connected, retry later");
    this.options.onBatch?.(batch.length);
    const outcomes = await this.transaction(ds, batch);
    this.setSpooling(false);
    return outcomes;
  }

  /**
   * The database apply alone, bounded by applyTimeoutMs: all of the batch commits or none does. A
   * deadlock or serialisation failure (which the lock ordering should prevent) is retried. A transaction
   * still running at the deadline is abandoned, not cancelled: if it commits after all, a retry or the
   * drain finds its eventId stored and changes nothing.
   */
  async applyNow(batch: readonly IncomingDelivery[]): Promise<DeliveryOutcome[]> {
    const ds = this.dataSource();
    try {
      if (!ds) throw new ServiceUnavailable("database not connected, retry later");
      const outcomes = await withDeadline(
        this.transaction(ds, batch),
        this.options.applyTimeoutMs,
        () => new ServiceUnavailable("database too slow to answer, retry later"),
      );
      this.setSpooling(false);
      return outcomes;
    } catch (error) {
      if (this.isUnreachable(error)) this.setSpooling(true);
      throw error;
    }
  }

  /** The database is down, too slow, or not connected yet: worth spooling or a 503, not a 500. */
  isUnreachable(error: unknown): boolean {
    return error instanceof ServiceUnavailable || isDatabaseUnavailable(error);
  }

  /**
   * A correctly signed body that is not a usable delivery (on arrival, or drained from the spool after an
   * upgrade): kept raw with the reason, for an operator. Returns the labels it is filed under.
   */
  async reject(rawBody: Buffer, reason: string, json: unknown): Promise<RejectionLabels> {
    const ds = this.dataSource();
    if (!ds) throw new ServiceUnavailable("database not connected, retry later");
    const labels = rejectionLabels(json);
    await ds.query(`INSERT INTO webhook_rejections (event_id, event_type, reason, raw_body) VALUES ($1, $2, $3, $4)`, [
      labels.eventId ?? null,
      labels.eventType ?? null,
      reason,
      rawBody,
    ]);
    return labels;
  }

  private async transaction(ds: DataSource, batch: readonly IncomingDelivery[]): Promise<DeliveryOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ds.transaction(async (manager) => {
          // Smartcar waits 15 s for an answer: give up in time to answer 503 (it then retries) rather
          // than commit after it stopped listening.
          await manager.query(`SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`, [
            `${Math.round(this.options.applyTimeoutMs * LOCK_SHARE)}ms`,
            `${this.options.applyTimeoutMs}ms`,
          ]);
          return applyDeliveries(manager, batch, this.options);
        });
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableTransactionError(error)) throw error;
      }
    }
  }

  /** Appended and fsynced before the answer; a failed write (a full disk) is a 503, so Smartcar retries. */
  private async toSpool(spool: Spool, batch: readonly IncomingDelivery[]): Promise<SpooledOutcome[]> {
    try {
      for (const item of batch) await spool.append({ receivedAt: item.receivedAt, rawBody: item.rawBody });
    } catch (error) {
      this.options.logger.error({ err: error }, "spool: cannot write a delivery; answering 503");
      throw new ServiceUnavailable("cannot store the delivery right now, retry later");
    }
    return batch.map((item) => ({ status: "spooled", eventId: item.delivery.envelope.eventId }));
  }

  private setSpooling(spooling: boolean): void {
    const { spool, logger } = this.options;
    if (!spool || spooling === this.spooling) return;
    this.spooling = spooling;
    if (spooling) logger.warn({ depth: spool.depth }, "database unreachable: spooling deliveries to SPOOL_DIR");
    else logger.info({ depth: spool.depth }, "database answers again: applying deliveries directly, draining the spool");
  }
}

export interface RejectionLabels {
  readonly eventId?: string;
  readonly eventType?: string;
}

/**
 * The eventId and eventType a rejection is filed under, as text PostgreSQL can store: they may be the
 * very reason for the rejection (a NUL, an unpaired surrogate), and the raw body keeps them exactly.
 */
function rejectionLabels(json: unknown): RejectionLabels {
  const { eventId, eventType } = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  const label = (value: unknown) => (typeof value === "string" ? value.replaceAll("\u0000", "\ufffd").replace(/\p{Cs}/gu, "\ufffd").slice(0, 1000) : undefined);
  return { eventId: label(eventId), eventType: label(eventType) };
}
