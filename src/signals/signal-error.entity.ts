import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, ManyToOne, PrimaryColumn } from "typeorm";
import { Vehicle } from "../vehicles/vehicle.entity";

/** A signal that currently fails (`status.value = "ERROR"`); cleared by a later good value. */
@ObjectType({ description: "A signal that is currently failing", simpleResolvers: true })
@Entity("signal_errors")
export class SignalError {
  @Field(() => ID)
  @PrimaryColumn("text")
  vehicleId: string;

  @Field()
  @PrimaryColumn("text")
  code: string;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  name: string | null;

  @Field(() => String, { nullable: true })
  @Column("text", { name: "group_name", nullable: true })
  group: string | null;

  @Field({ description: "e.g. COMPATIBILITY" })
  @Column("text")
  errorType: string;

  /** Smartcar sends `null` for some types (PERMISSION); see the GraphQL field resolver. */
  @Column("text", { nullable: true })
  errorCode: string | null;

  @Field(() => Date)
  @Column("timestamptz")
  firstSeenAt: Date;

  @Field(() => Date)
  @Column("timestamptz")
  lastSeenAt: Date;

  /** When Smartcar reported it (the delivery's latest retrievedAt, else deliveredAt): an error older than the latest good read is not current. */
  @Column("timestamptz")
  reportedAt: Date;

  @Column("text")
  eventId: string;

  /** The Smartcar user it was delivered for (data.user.id): only they see it. */
  @Column("text", { nullable: true })
  userId: string | null;

  @ManyToOne(() => Vehicle, { onDelete: "CASCADE" })
  vehicle?: Vehicle;
}
