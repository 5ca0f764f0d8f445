import { Field, Float, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";
import { JSONScalar } from "../graphql/scalars";
import { Vehicle } from "../vehicles/vehicle.entity";
import { TypedValueColumns } from "./typed-value.columns";

/**
 * Every good signal value ever received, in or out of order (append-only history). Partitioned by
 * month of receipt (src/signals/reading-partitions.ts): the key holds `receivedAt` as every
 * partitioned table's must; `id` alone is still unique (one sequence).
 */
@ObjectType({ description: "One good value of a signal, as received (history)", simpleResolvers: true })
@Entity("signal_readings")
@Index("signal_readings_vehicle_code_observed_idx", ["vehicleId", "code", "observedAt"])
@Index("signal_readings_received_at_idx", ["receivedAt"])
@Index("signal_readings_user_vehicle_code_observed_idx", ["userId", "vehicleId", "code", "observedAt"])
export class SignalReading extends TypedValueColumns {
  @Field(() => ID)
  @PrimaryGeneratedColumn("identity", { type: "bigint", generatedIdentity: "ALWAYS" })
  id: string;

  @Field(() => ID)
  @Column("text")
  vehicleId: string;

  @Field()
  @Column("text")
  code: string;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  name: string | null;

  @Field(() => String, { nullable: true })
  @Column("text", { name: "group_name", nullable: true })
  group: string | null;

  @Field(() => JSONScalar, { description: "The signal body as Smartcar sent it" })
  @Column("jsonb")
  body: unknown;

  @Field(() => Float, { nullable: true })
  @Column("double precision", { nullable: true })
  value: number | null;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  unit: string | null;

  @Field(() => Date, { nullable: true, description: "When Smartcar retrieved the value" })
  @Column("timestamptz", { nullable: true })
  retrievedAt: Date | null;

  @Field(() => Date, { nullable: true, description: "When the vehicle recorded the value" })
  @Column("timestamptz", { nullable: true })
  oemUpdatedAt: Date | null;

  @Field(() => Date, { description: "When fleetgraph received the value" })
  @PrimaryColumn("timestamptz")
  receivedAt: Date;

  @Field(() => Date, { description: "oemUpdatedAt, else retrievedAt, else receivedAt: the history's order" })
  @Column("timestamptz")
  observedAt: Date;

  /** True when a newer value was already stored: kept in history, never became the latest. */
  @Field({ description: "True when a newer value had already arrived, so this one never became the latest" })
  @Column("boolean", { default: false })
  late: boolean;

  @Column("text")
  eventId: string;

  /** The Smartcar user it was delivered for (data.user.id): only they see it. */
  @Column("text", { nullable: true })
  userId: string | null;

  @ManyToOne(() => Vehicle, { onDelete: "CASCADE" })
  vehicle?: Vehicle;
}
