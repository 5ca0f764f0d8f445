import { Args, Ctx, FieldResolver, Float, Query, Resolver, Root } from "type-graphql";
import { SortDirection, toConnection } from "../graphql/connection";
import type { Context } from "../graphql/context";
import { decodeCursor } from "../graphql/cursor";
import { pageSize } from "../graphql/pagination.args";
import { Vehicle } from "../vehicles/vehicle.entity";
import { vehiclesOf } from "../vehicles/vehicle.loaders";
import { openSeconds } from "./issue-lifecycle";
import { IssueEpisodeType } from "./issue-episode.type";
import { issuesOf } from "./issue.loaders";
import { IssueService } from "./issue.service";
import { IssueOrderField, IssuesArgs } from "./issues.args";
import { VehicleIssueConnection } from "./vehicle-issue.connection";
import { VehicleIssue } from "./vehicle-issue.entity";

@Resolver(() => VehicleIssue)
export class IssueResolver {
  @Query(() => VehicleIssueConnection, { description: "Issues you may see, a page at a time; default most recently opened first" })
  async issues(@Args(() => IssuesArgs) args: IssuesArgs, @Ctx() ctx: Context): Promise<VehicleIssueConnection> {
    const ordering = { field: args.orderBy?.field ?? IssueOrderField.OPENED_AT, direction: args.orderBy?.direction ?? SortDirection.DESC };
    const kind = `issues:${ordering.field}:${ordering.direction}`;
    const after = args.after == null ? undefined : decodeCursor(args.after, kind, IssueService.cursorParts);
    const first = pageSize(args);
    const page = await issuesOf(ctx).service.page(ctx.viewer, args, ordering, first, after);
    return Object.assign(new VehicleIssueConnection(), toConnection(page, first, kind, args.after ?? undefined));
  }

  @FieldResolver(() => Vehicle, { nullable: true, description: "The vehicle, when it is known and yours" })
  vehicle(@Root() issue: VehicleIssue, @Ctx() ctx: Context): Promise<Vehicle | null> | null {
    return issue.vehicleId === null ? null : vehiclesOf(ctx).vehicle.load(issue.vehicleId);
  }

  @FieldResolver(() => Float, { description: "How long the current (or, once resolved, the last) episode has been open" })
  openSeconds(@Root() issue: VehicleIssue, @Ctx() ctx: Context): number {
    return openSeconds(issue, ctx.now);
  }

  @FieldResolver(() => [IssueEpisodeType], { description: "Every period the issue was open, oldest first (from its change log)" })
  async episodes(@Root() issue: VehicleIssue, @Ctx() ctx: Context): Promise<IssueEpisodeType[]> {
    const episodes = await issuesOf(ctx).episodes.load(issue.id);
    return episodes.map((episode) => ({ ...episode, durationSeconds: openSeconds(episode, ctx.now) }));
  }

  @FieldResolver(() => Float, { description: "Seconds open over all episodes" })
  async totalOpenSeconds(@Root() issue: VehicleIssue, @Ctx() ctx: Context): Promise<number> {
    const episodes = await issuesOf(ctx).episodes.load(issue.id);
    return episodes.reduce((total, episode) => total + openSeconds(episode, ctx.now), 0);
  }
}
