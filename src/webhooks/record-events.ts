import type { EntityManager } from "typeorm";
import { arrayLiteral } from "../db/array-literal";
import { compareBytewise } from "../db/bytewise";
import type { IncomingDelivery } from "./incoming-delivery";
import type { WebhookOutcome } from "./webhook-event.entity";

export interface EventToRecord {
  readonly item: IncomingDelivery;
  readonly outcome: WebhookOutcome;
  /** Times this event came in the batch (a retry racing its original can share a group-commit batch). */
  readonly attempts: number;
}

/**
 * Stores each event raw, once: the unique `event_id` is the idempotency key. A retry of a stored
 * event only counts the attempt. Returns the ids that are new in this transaction; the others are
 * duplicates. A concurrent transaction inserting the same event makes this one wait for its outcome
 * (the unique index), so an event is applied at most once even when retries race.
 * Events go in id order so two batches sharing events cannot deadlock.
 */
export async function recordEvents(manager: EntityManager, events: readonly EventToRecord[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = [...events].sort((a, b) => compareBytewise(a.item.delivery.envelope.eventId, b.item.delivery.envelope.eventId));
  const envelope = (row: EventToRecord) => row.item.delivery.envelope;
  // The raw bodies travel as one binary parameter, cut apart by the database: a bytea[] would go as
  // text, every byte spelled in hex and escaped again inside the array literal (twice the bytes, and CPU).
  const bodies = Buffer.concat(rows.map((row) => row.item.rawBody));
  const bodyStarts: number[] = [];
  let start = 1; // substring() counts from 1
  for (const row of rows) {
    bodyStarts.push(start);
    start += row.item.rawBody.length;
  }
  const result: Array<{ event_id: string; inserted: boolean }> = await manager.query(
    `INSERT INTO webhook_events
       (event_id, event_type, mode, version, webhook_id, vehicle_id, delivery_id, delivered_at, outcome, raw_body,
        received_at, last_received_at, attempts)
     SELECT e.event_id, e.event_type, e.mode, e.version, e.webhook_id, e.vehicle_id, e.delivery_id, e.delivered_at,
            e.outcome, substring($10::bytea FROM e.body_start FOR e.body_length), e.received_at, e.received_at, e.attempts
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::timestamptz[], $9::text[], $13::int[], $14::int[], $11::timestamptz[], $12::int[])
            WITH ORDINALITY AS e(event_id, event_type, mode, version, webhook_id, vehicle_id, delivery_id, delivered_at,
                                 outcome, body_start, body_length, received_at, attempts, ord)
      ORDER BY e.ord
     ON CONFLICT (event_id) DO UPDATE SET
       attempts = webhook_events.attempts + EXCLUDED.attempts,
       last_received_at = GREATEST(webhook_events.last_received_at, EXCLUDED.last_received_at)
     RETURNING event_id, (xmax = 0) AS inserted`,
    [
      arrayLiteral(rows.map((row) => envelope(row).eventId)),
      arrayLiteral(rows.map((row) => envelope(row).eventType)),
      arrayLiteral(rows.map((row) => envelope(row).mode)),
      arrayLiteral(rows.map((row) => envelope(row).version)),
      arrayLiteral(rows.map((row) => envelope(row).webhookId)),
      arrayLiteral(rows.map((row) => row.item.delivery.vehicle?.id ?? null)),
      arrayLiteral(rows.map((row) => envelope(row).deliveryId)),
      arrayLiteral(rows.map((row) => envelope(row).deliveredAt ?? null)),
      arrayLiteral(rows.map((row) => row.outcome)),
      bodies,
      arrayLiteral(rows.map((row) => row.item.receivedAt)),
      arrayLiteral(rows.map((row) => row.attempts)),
      arrayLiteral(bodyStarts),
      arrayLiteral(rows.map((row) => row.item.rawBody.length)),
    ],
  );
  return new Set(result.filter((row) => row.inserted).map((row) => row.event_id));
}
