// Decorators below (and in the args class) read design-time types: load the polyfill first, whatever imports this.
import "reflect-metadata";
import { Args, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { canSee, scopeOf } from "../auth/viewer";
import type { IssueChanged } from "../changes/change";
import { liveInputOf } from "../changes/hub";
import type { SubscriptionSource } from "../changes/resumable";
import { issuesByChangeIds, replayIssues } from "./issue-changes";
import { VehicleIssueUpdatedArgs } from "./vehicle-issue-updated.args";
import { VehicleIssue } from "./vehicle-issue.entity";

@Resolver()
export class IssueSubscriptionResolver {
  @Subscription(() => VehicleIssue, {
    description: "Each issue change once its delivery committed: opened, refreshed (reported again), resolved, reopened",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, VehicleIssueUpdatedArgs, unknown>) => {
      const { viewer, live } = liveInputOf(context);
      const { hub } = live;
      const filter = { vehicleId: args.vehicleId ?? undefined, state: args.state ?? undefined, userId: scopeOf(viewer) };
      const payloads = hub.payloads(issuesByChangeIds);
      const source: SubscriptionSource<IssueChanged, VehicleIssue> = {
        accept: (message) =>
          message.kind === "issue" &&
          canSee(viewer, message.userId) &&
          (filter.vehicleId === undefined || message.vehicleId === filter.vehicleId) &&
          (filter.state === undefined || message.state === filter.state)
            ? message
            : undefined,
        keyOf: (change) => change.changeId,
        load: (change) => payloads.load(change.changeId),
        replay: (since, after, limit) => hub.replay(() => replayIssues(hub.dataSource, filter, since, limit, after)),
      };
      return hub.open(source, args.since ?? undefined, () => live.dropSlowClient());
    },
  })
  vehicleIssueUpdated(@Root() issue: VehicleIssue, @Args() _args: VehicleIssueUpdatedArgs): VehicleIssue {
    return issue;
  }
}
