import { Field, ID, Int, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";

/** A Smartcar vehicle, created by its first delivery and refreshed by every later one. */
@ObjectType({ description: "A vehicle connected through Smartcar", simpleResolvers: true })
@Entity("vehicles")
@Index("vehicles_user_id_idx", ["userId", "id"])
@Index("vehicles_last_seen_at_idx", ["lastSeenAt", "id"])
export class Vehicle {
  @Field(() => ID, { description: "Smartcar vehicle id" })
  @PrimaryColumn("text")
  id: string;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  make: string | null;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  model: string | null;

  @Field(() => Int, { nullable: true })
  @Column("integer", { nullable: true })
  year: number | null;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  vin: string | null;

  @Field(() => ID, { nullable: true, description: "Smartcar user id (data.user.id) of the vehicle's newest delivery" })
  @Column("text", { nullable: true })
  userId: string | null;

  /**
   * When the data of the delivery that made `userId` the owner was read (see ownerReadAt in
   * vehicle-upsert.ts), and that delivery's event: only a delivery read later takes the vehicle over.
   */
  @Column("timestamptz", { nullable: true })
  ownerReadAt: Date | null;

  @Column("text", { nullable: true })
  ownerEventId: string | null;

  @Field(() => Date)
  @Column("timestamptz")
  firstSeenAt: Date;

  @Field(() => Date)
  @Column("timestamptz")
  lastSeenAt: Date;
}
