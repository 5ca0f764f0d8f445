import { Column, Entity, Index, PrimaryGeneratedColumn } from "typeorm";

export type WebhookOutcome = "applied" | "test";

/**
 * Every accepted Smartcar event, raw, exactly once: the unique `eventId` is the idempotency key
 * (Smartcar keeps it across retries). The raw bytes allow reprocessing and signature forensics.
 */
@Entity("webhook_events")
@Index("webhook_events_received_at_idx", ["receivedAt"])
@Index("webhook_events_vehicle_id_idx", ["vehicleId", "receivedAt"])
export class WebhookEvent {
  @PrimaryGeneratedColumn("identity", { type: "bigint", generatedIdentity: "ALWAYS" })
  id: string;

  @Index("webhook_events_event_id_uidx", { unique: true })
  @Column("text")
  eventId: string;

  @Column("text")
  eventType: string;

  /** `meta.mode`: LIVE or TEST (a missing mode is LIVE). */
  @Column("text")
  mode: string;

  @Column("text", { nullable: true })
  version: string | null;

  @Column("text", { nullable: true })
  webhookId: string | null;

  @Column("text", { nullable: true })
  vehicleId: string | null;

  @Column("text", { nullable: true })
  deliveryId: string | null;

  @Column("timestamptz", { nullable: true })
  deliveredAt: Date | null;

  @Column("text")
  outcome: WebhookOutcome;

  /** Delivery attempts seen for this event: 1, plus one per retry or duplicate. */
  @Column("integer", { default: 1 })
  attempts: number;

  @Column("bytea")
  rawBody: Buffer;

  @Column("timestamptz", { default: () => "now()" })
  receivedAt: Date;

  @Column("timestamptz", { default: () => "now()" })
  lastReceivedAt: Date;
}
