import type { DataSource } from "typeorm";
import { isRetryableTransactionError } from "../db/pg-errors";
import { applyDeliveries, type ApplyOptions } from "./apply-deliveries";
import type { DeliveryOutcome, IncomingDelivery } from "./incoming-delivery";

const MAX_ATTEMPTS = 3;
const LOCK_TIMEOUT = "5s";
const STATEMENT_TIMEOUT = "8s";

/** Applies deliveries in one transaction each batch, and keeps the raw bodies of those it must refuse. */
export class IngestionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: ApplyOptions,
  ) {}

  /**
   * Applies a batch atomically: all of it commits or none does. A deadlock or serialisation failure
   * (which the lock ordering should prevent) is retried; anything else propagates, so the HTTP layer
   * answers 503 when the database is unavailable, too slow or still deadlocked, and Smartcar retries.
   */
  async apply(batch: readonly IncomingDelivery[]): Promise<DeliveryOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(async (manager) => {
          // Smartcar waits 15 s for an answer: give up in time to answer 503 (it then retries) rather
          // than commit after it stopped listening.
          await manager.query(`SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`, [
            LOCK_TIMEOUT,
            STATEMENT_TIMEOUT,
          ]);
          return applyDeliveries(manager, batch, this.options);
        });
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableTransactionError(error)) throw error;
      }
    }
  }

  /** A correctly signed body that is not a usable delivery: kept raw with the reason, for an operator. */
  async reject(rawBody: Buffer, reason: string, json: unknown): Promise<void> {
    const { eventId, eventType } = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
    await this.dataSource.query(
      `INSERT INTO webhook_rejections (event_id, event_type, reason, raw_body) VALUES ($1, $2, $3, $4)`,
      [typeof eventId === "string" ? eventId : null, typeof eventType === "string" ? eventType : null, reason, rawBody],
    );
  }
}
