import DataLoader from "dataloader";
import { groupBy } from "../graphql/batching";
import { perOperation } from "../graphql/context";
import { episodesOf } from "./issue-lifecycle";
import { IssueService } from "./issue.service";

/** The issues part of one operation, batched per tick and scoped to the viewer like the `issues` query. */
export const issuesOf = perOperation(({ dataSource, viewer }) => {
  const service = new IssueService(dataSource);
  return {
    service,
    byVehicle: new DataLoader(async (ids: readonly string[]) =>
      groupBy(ids, await service.byVehicles(viewer, ids), (row) => row.vehicleId ?? ""),
    ),
    episodes: new DataLoader(async (ids: readonly string[]) =>
      groupBy(ids, await service.changesByIssues(viewer, ids), (row) => row.issueId).map((changes) => episodesOf(changes)),
    ),
  };
});
