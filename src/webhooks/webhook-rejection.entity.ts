import { Column, Entity, Index, PrimaryGeneratedColumn } from "typeorm";

/**
 * A correctly signed delivery we could not apply (not a Smartcar delivery shape), kept raw with the
 * reason so an operator can inspect and reprocess it once the cause is understood.
 */
@Entity("webhook_rejections")
@Index("webhook_rejections_received_at_idx", ["receivedAt"])
export class WebhookRejection {
  @PrimaryGeneratedColumn("identity", { type: "bigint", generatedIdentity: "ALWAYS" })
  id: string;

  @Column("text", { nullable: true })
  eventId: string | null;

  @Column("text", { nullable: true })
  eventType: string | null;

  @Column("text")
  reason: string;

  @Column("bytea")
  rawBody: Buffer;

  @Column("timestamptz", { default: () => "now()" })
  receivedAt: Date;
}
