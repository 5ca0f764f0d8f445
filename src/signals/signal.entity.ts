import { Field, Float, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, ManyToOne, PrimaryColumn } from "typeorm";
import { Vehicle } from "../vehicles/vehicle.entity";
import { SignalValueColumns } from "./signal-value.columns";

/**
 * The latest good value of one signal of one vehicle. Replaced only by a reading whose
 * `observedAt` is newer, so retries and out-of-order deliveries never move it backwards.
 */
@ObjectType({ description: "The latest good value of a vehicle signal", simpleResolvers: true })
@Entity("signals")
// Partial indexes per kind for fleet queries, created by migrations/1796100000000-TypedSignalValues.ts.
@Index("signals_number_idx", { synchronize: false })
@Index("signals_boolean_idx", { synchronize: false })
@Index("signals_text_idx", { synchronize: false })
@Index("signals_location_idx", { synchronize: false })
export class Signal extends SignalValueColumns {
  @Field(() => ID)
  @PrimaryColumn("text")
  vehicleId: string;

  @Field({ description: "Smartcar signal code, e.g. tractionbattery-stateofcharge" })
  @PrimaryColumn("text")
  code: string;

  @Field(() => String, { nullable: true, description: "e.g. StateOfCharge" })
  @Column("text", { nullable: true })
  name: string | null;

  @Field(() => String, { nullable: true, description: "e.g. TractionBattery" })
  @Column("text", { name: "group_name", nullable: true })
  group: string | null;

  @Field(() => Float, { nullable: true, description: "The body's numeric value where it has one" })
  @Column("double precision", { nullable: true })
  value: number | null;

  @Column("timestamptz")
  appliedAt: Date;

  /** Ordering key: oemUpdatedAt, else retrievedAt, else receivedAt (contract, "Newest wins"). */
  @Field(() => Date, { description: "When the value was true: oemUpdatedAt, else retrievedAt, else receivedAt" })
  @Column("timestamptz")
  observedAt: Date;

  /**
   * The latest successful read of this signal by Smartcar, late readings included: a signal error
   * reported before it is stale. (The latest value's own `retrievedAt` may be older than a late reading's.)
   */
  @Column("timestamptz")
  lastReadAt: Date;

  @ManyToOne(() => Vehicle, { onDelete: "CASCADE", createForeignKeyConstraints: true })
  vehicle?: Vehicle;
}
