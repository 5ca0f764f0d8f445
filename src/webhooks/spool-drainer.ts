import type { Logger } from "../logger";
import type { IncomingDelivery } from "./incoming-delivery";
import { normalizeDelivery } from "./normalize";
import type { Spool } from "./spool";
import type { SpooledDelivery } from "./spool-record";

/** What the drain needs from ingestion: the normal apply, and a place for what can no longer be applied. */
export interface DrainTarget {
  /** The database apply alone (idempotent by eventId); throws when the database is unreachable. */
  applyNow(batch: readonly IncomingDelivery[]): Promise<unknown>;
  /** Keeps the raw body with the reason (webhook_rejections), under labels PostgreSQL can store. */
  reject(rawBody: Buffer, reason: string, json: unknown): Promise<unknown>;
  isUnreachable(error: unknown): boolean;
}

export interface SpoolDrainerOptions {
  readonly spool: Spool;
  readonly target: DrainTarget;
  readonly logger: Logger;
  /** Wait after a failed attempt before the next (the database is probed this often while it is down). @default 1000 */
  readonly retryMs?: number;
  /** @default 100 */
  readonly batchSize?: number;
}

/**
 * Applies spooled deliveries in file order, a batch at a time, through the normal apply, as soon as the
 * database answers. A delivery that can no longer be applied (a code change made it invalid, or it
 * breaks the apply) is kept in webhook_rejections rather than blocking the rest.
 */
export class SpoolDrainer {
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private drainedSinceEmpty = 0;

  constructor(private readonly options: SpoolDrainerOptions) {
    options.spool.onAppend(() => this.wake?.());
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Finishes the batch in progress, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { spool, logger } = this.options;
    while (!this.stopped) {
      if (spool.depth === 0) {
        await this.pause(undefined);
        continue;
      }
      try {
        const batch = await spool.readBatch(this.options.batchSize ?? 100);
        await this.applyAll(batch.entries);
        await spool.ack(batch.end, batch.entries.length);
        this.drainedSinceEmpty += batch.entries.length;
        if (spool.depth === 0) {
          logger.info({ deliveries: this.drainedSinceEmpty }, "spool drained: every spooled delivery is applied");
          this.drainedSinceEmpty = 0;
        }
      } catch (error) {
        if (!this.options.target.isUnreachable(error)) logger.error({ err: error }, "spool drain failed; retrying");
        await this.pause(this.options.retryMs ?? 1000);
      }
    }
  }

  /** The batch in one transaction; when that fails for another reason than the database, one by one. */
  private async applyAll(entries: readonly SpooledDelivery[]): Promise<void> {
    const { target } = this.options;
    const parsed = entries.map(parse);
    const items = parsed.flatMap((p) => (p.item ? [p.item] : []));
    try {
      if (items.length > 0) await target.applyNow(items);
    } catch (error) {
      if (target.isUnreachable(error)) throw error;
      for (const p of parsed) {
        if (!p.item) continue;
        try {
          await target.applyNow([p.item]);
        } catch (single) {
          if (target.isUnreachable(single)) throw single;
          p.reason = "spooled delivery could not be applied";
          this.options.logger.error({ err: single }, "spool: a delivery could not be applied; kept in webhook_rejections");
        }
      }
    }
    for (const p of parsed) {
      if (p.reason !== undefined) await target.reject(p.entry.rawBody, p.reason, p.json);
    }
  }

  /** Waits `ms`, or until an append (or stop) when `ms` is undefined; stop always ends the wait. */
  private pause(ms: number | undefined): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      const onWake = () => {
        if (ms === undefined || this.stopped) done();
      };
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = onWake;
    });
  }
}

interface Parsed {
  entry: SpooledDelivery;
  item?: IncomingDelivery;
  json?: unknown;
  reason?: string;
}

/** Normalised again from the exact bytes, as on arrival (normalisation depends on nothing else). */
function parse(entry: SpooledDelivery): Parsed {
  try {
    const json: unknown = JSON.parse(entry.rawBody.toString("utf8"));
    try {
      const delivery = normalizeDelivery(json);
      if (delivery.kind === "VERIFY") return { entry, json, reason: "spooled VERIFY" };
      return { entry, json, item: { delivery, rawBody: entry.rawBody, receivedAt: entry.receivedAt } };
    } catch (error) {
      return { entry, json, reason: error instanceof Error ? error.message : "not a delivery" };
    }
  } catch {
    return { entry, reason: "spooled body is not valid JSON" };
  }
}
