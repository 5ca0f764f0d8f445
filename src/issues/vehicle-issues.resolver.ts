import { Arg, Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { Context } from "../graphql/context";
import { Vehicle } from "../vehicles/vehicle.entity";
import { IssueState } from "./issue-state";
import { issuesOf } from "./issue.loaders";
import { VehicleIssue } from "./vehicle-issue.entity";

/** A vehicle's issues. */
@Resolver(() => Vehicle)
export class VehicleIssuesResolver {
  @FieldResolver(() => [VehicleIssue], { description: "Issues of this vehicle, most recently opened first" })
  async issues(
    @Root() vehicle: Vehicle,
    @Arg("state", () => IssueState, { nullable: true }) state: IssueState | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<VehicleIssue[]> {
    const issues = await issuesOf(ctx).byVehicle.load(vehicle.id);
    return state == null ? issues : issues.filter((issue) => issue.state === state);
  }
}
