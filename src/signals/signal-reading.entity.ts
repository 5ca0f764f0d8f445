import { Field, Float, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";
import { Vehicle } from "../vehicles/vehicle.entity";
import { SignalValueColumns } from "./signal-value.columns";

/**
 * Every good signal value ever received, in or out of order (append-only history). Partitioned by
 * month of application (src/signals/reading-partitions.ts): the key holds `appliedAt` as every
 * partitioned table's must; `id` alone is still unique (one sequence).
 */
@ObjectType({ description: "One good value of a signal, as received (history)", simpleResolvers: true })
@Entity("signal_readings")
@Index("signal_readings_vehicle_code_observed_idx", ["vehicleId", "code", "observedAt"])
@Index("signal_readings_applied_at_idx", ["appliedAt"])
@Index("signal_readings_user_vehicle_code_observed_idx", ["userId", "vehicleId", "code", "observedAt"])
export class SignalReading extends SignalValueColumns {
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

  @Field(() => Float, { nullable: true })
  @Column("double precision", { nullable: true })
  value: number | null;

  // Part of the key: the table is partitioned by it (see the class comment).
  @PrimaryColumn("timestamptz")
  appliedAt: Date;

  @Field(() => Date, { description: "oemUpdatedAt, else retrievedAt, else receivedAt: the history's order" })
  @Column("timestamptz")
  observedAt: Date;

  /** True when a newer value was already stored: kept in history, never became the latest. */
  @Field({ description: "True when a newer value had already arrived, so this one never became the latest" })
  @Column("boolean", { default: false })
  late: boolean;

  // No foreign key (migration ReadingsWithoutForeignKey): its per-row check cost more than the rest of a
  // reading's insert; applyReadings inserts only under its vehicles' locks, and forgetUser deletes readings.
  @ManyToOne(() => Vehicle, { createForeignKeyConstraints: false })
  vehicle?: Vehicle;
}
