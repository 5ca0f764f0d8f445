import { In, type DataSource } from "typeorm";
import { IssueState } from "./issue-state";
import { VehicleIssueChange } from "./vehicle-issue-change.entity";
import { VehicleIssue } from "./vehicle-issue.entity";

export interface IssueChangeFilter {
  readonly vehicleId?: string;
  readonly state?: IssueState;
  /** Only issues reported for this Smartcar user (a user token); undefined for admins. */
  readonly userId?: string;
}

/**
 * The issue as one change left it. The log keeps only each change's state and time, so the other
 * fields are the issue's current ones; state and resolvedAt follow the change when it is not the latest.
 * `updatedAt` is the change's own log time: the point a client resumes from (`since`).
 */
function issueAsOf(issue: VehicleIssue, change: VehicleIssueChange): VehicleIssue {
  const asOf = { updatedAt: change.occurredAt };
  if (issue.state === change.state) return Object.assign(new VehicleIssue(), issue, asOf);
  return Object.assign(new VehicleIssue(), issue, {
    ...asOf,
    state: change.state,
    resolvedAt: change.state === IssueState.OPEN ? null : change.occurredAt,
  });
}

async function withIssues(dataSource: DataSource, changes: readonly VehicleIssueChange[]): Promise<Array<{ key: string; payload: VehicleIssue }>> {
  if (changes.length === 0) return [];
  const issues = await dataSource.getRepository(VehicleIssue).findBy({ id: In([...new Set(changes.map((change) => change.issueId))]) });
  const byId = new Map(issues.map((issue) => [issue.id, issue]));
  return changes.flatMap((change) => {
    const issue = byId.get(change.issueId);
    return issue ? [{ key: String(change.id), payload: issueAsOf(issue, change) }] : [];
  });
}

/** Issues as the given changes left them, by change id (missing ids: the issue was deleted). */
export async function issuesByChangeIds(dataSource: DataSource, ids: readonly string[]): Promise<Map<string, VehicleIssue>> {
  const changes = await dataSource.getRepository(VehicleIssueChange).findBy({ id: In([...ids]) });
  return new Map((await withIssues(dataSource, changes)).map((row) => [row.key, row.payload]));
}

/** Issue changes logged at or after `since`, in log order. */
export async function replayIssues(
  dataSource: DataSource,
  filter: IssueChangeFilter,
  since: Date,
  limit: number,
  after?: string,
): Promise<Array<{ key: string; payload: VehicleIssue }>> {
  const query = dataSource
    .getRepository(VehicleIssueChange)
    .createQueryBuilder("e")
    .where("e.occurredAt >= :since", { since })
    .orderBy("e.id", "ASC")
    .limit(limit);
  if (after !== undefined) query.andWhere("e.id > :after", { after }); // the next page
  if (filter.vehicleId !== undefined) query.andWhere("e.vehicleId = :vehicleId", { vehicleId: filter.vehicleId });
  if (filter.state !== undefined) query.andWhere("e.state = :state", { state: filter.state });
  // As for queries: each change is the user's it was reported for.
  if (filter.userId !== undefined) query.andWhere("e.userId = :userId", { userId: filter.userId });
  return withIssues(dataSource, await query.getMany());
}
