import type { DataSource, SelectQueryBuilder } from "typeorm";
import { scopeOf, type Viewer } from "../auth/viewer";
import type { PageRows, SortDirection } from "../graphql/connection";
import type { CursorKey, CursorPart } from "../graphql/cursor";
import { keysetPage } from "../graphql/keyset";
import type { IssueChangeAt } from "./issue-lifecycle";
import type { IssueState } from "./issue-state";
import { IssueOrderField } from "./issues.args";
import type { IssueChangeKind } from "./vehicle-issue-change.entity";
import { VehicleIssue } from "./vehicle-issue.entity";

export interface IssueFilter {
  state?: IssueState | null;
  vehicleId?: string | null;
  type?: string | null;
  code?: string | null;
  userId?: string | null;
  openedAfter?: Date | null;
  openedBefore?: Date | null;
  updatedAfter?: Date | null;
}

export interface IssueOrdering {
  field: IssueOrderField;
  direction: SortDirection;
}

const SORT_COLUMN: Record<IssueOrderField, string> = {
  [IssueOrderField.OPENED_AT]: "i.opened_at",
  [IssueOrderField.UPDATED_AT]: "i.updated_at",
  [IssueOrderField.LAST_SEEN_AT]: "i.last_seen_at",
};

/**
 * Reads vehicle issues. A non-admin viewer sees the issues Smartcar reported for them (contract,
 * Access): not those of a vehicle's previous or next owner, even on a vehicle they own now.
 */
export class IssueService {
  constructor(private readonly dataSource: DataSource) {}

  async page(viewer: Viewer, filter: IssueFilter, ordering: IssueOrdering, first: number, after: CursorKey | undefined): Promise<PageRows<VehicleIssue>> {
    const order = { column: SORT_COLUMN[ordering.field], id: "i.id", idType: "uuid", direction: ordering.direction } as const;
    return keysetPage(this.filtered(viewer, filter), order, first, after);
  }

  /** The visible issues of each vehicle, most recently opened first. */
  async byVehicles(viewer: Viewer, vehicleIds: readonly string[]): Promise<VehicleIssue[]> {
    return this.scoped(viewer)
      .andWhere("i.vehicle_id = ANY(:vehicleIds)", { vehicleIds })
      .orderBy("i.opened_at", "DESC")
      .addOrderBy("i.id", "DESC")
      .getMany();
  }

  /**
   * Each issue's change log, oldest first. A change is dated by the report that caused it (the
   * delivery's `deliveredAt`, else its receipt), the same clock as `openedAt` and `resolvedAt`.
   */
  async changesByIssues(viewer: Viewer, issueIds: readonly string[]): Promise<Array<IssueChangeAt & { issueId: string }>> {
    const scope = scopeOf(viewer);
    const rows: Array<{ issueId: string; change: IssueChangeKind; at: Date }> = await this.dataSource.query(
      `SELECT e.issue_id AS "issueId", e.change, COALESCE(w.delivered_at, w.received_at, e.occurred_at) AS at
         FROM vehicle_issue_changes e
         LEFT JOIN webhook_events w ON w.event_id = e.event_id
        WHERE e.issue_id = ANY($1::uuid[]) ${scope === undefined ? "" : "AND e.user_id = $2"}
        ORDER BY e.issue_id, e.id`,
      scope === undefined ? [issueIds] : [issueIds, scope],
    );
    return rows;
  }

  /** Cursor key: the sort column, then the id. */
  static readonly cursorParts: readonly CursorPart[] = ["timestamp", "uuid"];

  private scoped(viewer: Viewer): SelectQueryBuilder<VehicleIssue> {
    const query = this.dataSource.getRepository(VehicleIssue).createQueryBuilder("i").where("TRUE");
    const scope = scopeOf(viewer);
    return scope === undefined ? query : query.andWhere("i.user_id = :scope", { scope });
  }

  private filtered(viewer: Viewer, filter: IssueFilter): SelectQueryBuilder<VehicleIssue> {
    const query = this.scoped(viewer);
    if (filter.state != null) query.andWhere("i.state = :state", { state: filter.state });
    if (filter.vehicleId != null) query.andWhere("i.vehicle_id = :vehicleId", { vehicleId: filter.vehicleId });
    if (filter.type != null) query.andWhere("i.type = :type", { type: filter.type });
    if (filter.code != null) query.andWhere("i.code = :code", { code: filter.code });
    if (filter.userId != null) query.andWhere("i.user_id = :userId", { userId: filter.userId });
    if (filter.openedAfter != null) query.andWhere("i.opened_at >= :openedAfter", { openedAfter: filter.openedAfter });
    if (filter.openedBefore != null) query.andWhere("i.opened_at < :openedBefore", { openedBefore: filter.openedBefore });
    if (filter.updatedAfter != null) query.andWhere("i.updated_at >= :updatedAfter", { updatedAfter: filter.updatedAfter });
    return query;
  }
}
