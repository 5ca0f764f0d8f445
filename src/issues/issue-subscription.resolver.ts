// Decorators below (and in the args class) read design-time types: load the polyfill first, whatever imports this.
import "reflect-metadata";
import { Args, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { liveInputOf } from "../changes/live";
import { VehicleIssueUpdatedArgs } from "./vehicle-issue-updated.args";
import { VehicleIssue } from "./vehicle-issue.entity";

@Resolver()
export class IssueSubscriptionResolver {
  @Subscription(() => VehicleIssue, {
    description: "Each issue change once its delivery committed: opened, refreshed (reported again), resolved, reopened",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, VehicleIssueUpdatedArgs, unknown>) => {
      const { viewer, live } = liveInputOf(context);
      const filter = { vehicleId: args.vehicleId ?? undefined, state: args.state ?? undefined, since: args.since ?? undefined };
      return live.feed.vehicleIssueUpdated(viewer, filter, () => live.dropSlowClient());
    },
  })
  vehicleIssueUpdated(@Root() issue: VehicleIssue, @Args() _args: VehicleIssueUpdatedArgs): VehicleIssue {
    return issue;
  }
}
