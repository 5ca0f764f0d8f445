import { Column, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { IssueState } from "./issue-state";
import { VehicleIssue } from "./vehicle-issue.entity";

export type IssueChangeKind = "OPENED" | "REFRESHED" | "RESOLVED" | "REOPENED";

/** Append-only log of every change to a vehicle issue: the audit trail and the subscription replay source. */
@Entity("vehicle_issue_changes")
@Index("vehicle_issue_changes_occurred_at_idx", ["occurredAt"])
@Index("vehicle_issue_changes_issue_id_idx", ["issueId", "id"])
@Index("vehicle_issue_changes_user_occurred_idx", ["userId", "occurredAt"])
export class VehicleIssueChange {
  @PrimaryGeneratedColumn("identity", { type: "bigint", generatedIdentity: "ALWAYS" })
  id: string;

  @Column("uuid")
  issueId: string;

  @Column("text", { nullable: true })
  vehicleId: string | null;

  @Column("text", { nullable: true })
  userId: string | null;

  @Column("text")
  state: IssueState;

  @Column("text")
  change: IssueChangeKind;

  @Column("text")
  eventId: string;

  @Column("timestamptz", { default: () => "now()" })
  occurredAt: Date;

  @ManyToOne(() => VehicleIssue, { onDelete: "CASCADE" })
  issue?: VehicleIssue;
}
