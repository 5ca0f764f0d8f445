import { Field, ID, Int, ObjectType } from "type-graphql";
import { Column, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { Vehicle } from "../vehicles/vehicle.entity";
import { IssueState } from "./issue-state";

/**
 * A VEHICLE_ERROR condition, one row per (vehicle, type, code): opened by `state: "ERROR"`,
 * refreshed by repeats, resolved by `state: "RESOLVED"`, reopened if it comes back.
 */
@ObjectType({ description: "A connection or compatibility problem Smartcar reported for a vehicle", simpleResolvers: true })
@Entity("vehicle_issues")
@Index("vehicle_issues_vehicle_state_idx", ["vehicleId", "state", "openedAt"])
@Index("vehicle_issues_state_updated_idx", ["state", "updatedAt"])
@Index("vehicle_issues_user_opened_idx", ["userId", "openedAt"])
export class VehicleIssue {
  @Field(() => ID)
  @PrimaryGeneratedColumn("uuid")
  id: string;

  /** `vehicleId|userId|type|code` with empty parts for nulls: the unique key Smartcar's errors are matched on. */
  @Index("vehicle_issues_key_uidx", { unique: true })
  @Column("text")
  issueKey: string;

  @Field(() => ID, { nullable: true })
  @Column("text", { nullable: true })
  vehicleId: string | null;

  /** The Smartcar user it was reported for (part of the key): only they see it. */
  @Column("text", { nullable: true })
  userId: string | null;

  @Field({ description: "COMPATIBILITY, CONNECTED_SERVICES_ACCOUNT, ..." })
  @Column("text")
  type: string;

  @Field(() => String, { nullable: true, description: "VEHICLE_NOT_CAPABLE, ...; null for some types" })
  @Column("text", { nullable: true })
  code: string | null;

  @Field(() => IssueState)
  @Column("text")
  state: IssueState;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  description: string | null;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  suggestedUserMessage: string | null;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  docUrl: string | null;

  @Field(() => String, { nullable: true })
  @Column("text", { nullable: true })
  resolutionType: string | null;

  @Field(() => [String])
  @Column("text", { array: true, default: () => "'{}'" })
  signalCodes: string[];

  @Field(() => Date, { description: "When the current (or last) episode of this issue opened" })
  @Column("timestamptz")
  openedAt: Date;

  @Field(() => Date, { nullable: true })
  @Column("timestamptz", { nullable: true })
  resolvedAt: Date | null;

  @Field(() => Date, { description: "When Smartcar last reported this issue" })
  @Column("timestamptz")
  lastSeenAt: Date;

  @Field(() => Int, { description: "How many times the issue came back after being resolved" })
  @Column("integer", { default: 0 })
  reopenCount: number;

  @Field(() => Int, { description: "How many error reports Smartcar sent for this issue" })
  @Column("integer", { default: 1 })
  occurrences: number;

  /** Ordering key of the last applied report, so an old ERROR never reopens a newer resolution. */
  @Column("timestamptz")
  reportedAt: Date;

  @Field(() => Date)
  @Column("timestamptz")
  updatedAt: Date;

  @Column("text")
  eventId: string;

  @ManyToOne(() => Vehicle, { onDelete: "CASCADE", nullable: true })
  vehicle?: Vehicle;
}
