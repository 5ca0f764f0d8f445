import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";
import { SortDirection, toConnection } from "../graphql/connection";
import type { Context } from "../graphql/context";
import { decodeCursor } from "../graphql/cursor";
import { pageSize } from "../graphql/pagination.args";
import { IssueState } from "../issues/issue-state";
import { checkCodes } from "../subscriptions/live-context";
import { VehicleIssue } from "../issues/vehicle-issue.entity";
import { SignalError } from "../signals/signal-error.entity";
import { Signal } from "../signals/signal.entity";
import { VehicleConnection } from "./vehicle.connection";
import { Vehicle } from "./vehicle.entity";
import { VehicleService } from "./vehicle.service";
import { VehicleOrderField, VehiclesArgs } from "./vehicles.args";

/**
 * Nothing here needs class-validator (any code may be asked for; `asOf` is parsed by its scalar), and
 * skipping it matters: these arguments are resolved once per vehicle of a page.
 */
@ArgsType()
class VehicleSignalsArgs {
  @Field(() => [String], { nullable: true, description: "Only these signal codes (at most 100)" })
  codes?: string[] | null;

  @Field(() => Date, {
    nullable: true,
    description: "The values as they were at this instant (from history, by observation time); default: the latest",
  })
  asOf?: Date | null;
}

@Resolver(() => Vehicle)
export class VehicleResolver {
  @Query(() => Vehicle, { nullable: true, description: "A vehicle by its Smartcar id; null when unknown or not yours" })
  vehicle(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Vehicle | null> {
    return ctx.loaders.vehicle.load(id);
  }

  @Query(() => VehicleConnection, { description: "The vehicles you may see, a page at a time" })
  async vehicles(@Args(() => VehiclesArgs) args: VehiclesArgs, @Ctx() ctx: Context): Promise<VehicleConnection> {
    const ordering = { field: args.orderBy?.field ?? VehicleOrderField.ID, direction: args.orderBy?.direction ?? SortDirection.ASC };
    const kind = `vehicles:${ordering.field}:${ordering.direction}`;
    const after = args.after == null ? undefined : decodeCursor(args.after, kind, VehicleService.cursorParts(ordering.field));
    const first = pageSize(args);
    const page = await ctx.services.vehicles.page(ctx.viewer, args, ordering, first, after);
    return Object.assign(new VehicleConnection(), toConnection(page, first, kind, args.after ?? undefined));
  }

  @FieldResolver(() => [Signal], { description: "Latest good value of each signal (or, with asOf, the value at that instant)" })
  async signals(
    @Root() vehicle: Vehicle,
    @Args(() => VehicleSignalsArgs, { validate: false }) { codes, asOf }: VehicleSignalsArgs,
    @Ctx() ctx: Context,
  ): Promise<Signal[]> {
    // Checked by hand (no class-validator here, see above): a long list, filtered once per vehicle of a page, costs seconds.
    const only = checkCodes(codes);
    const signals = await (asOf ? ctx.loaders.signalsAsOf(asOf) : ctx.loaders.signals).load(vehicle.id);
    if (only === undefined) return signals;
    const wanted = new Set(only);
    return signals.filter((signal) => wanted.has(signal.code));
  }

  @FieldResolver(() => Signal, { nullable: true, description: "Latest good value of one signal; null when never received" })
  async signal(
    @Root() vehicle: Vehicle,
    @Arg("code", { description: "Smartcar signal code, e.g. tractionbattery-stateofcharge", validate: false }) code: string,
    @Ctx() ctx: Context,
  ): Promise<Signal | null> {
    return (await ctx.loaders.signals.load(vehicle.id)).find((signal) => signal.code === code) ?? null;
  }

  @FieldResolver(() => [SignalError], { description: "Signals currently failing" })
  signalErrors(@Root() vehicle: Vehicle, @Ctx() ctx: Context): Promise<SignalError[]> {
    return ctx.loaders.signalErrors.load(vehicle.id);
  }

  @FieldResolver(() => [VehicleIssue], { description: "Issues of this vehicle, most recently opened first" })
  async issues(
    @Root() vehicle: Vehicle,
    @Arg("state", () => IssueState, { nullable: true }) state: IssueState | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<VehicleIssue[]> {
    const issues = await ctx.loaders.vehicleIssues.load(vehicle.id);
    return state == null ? issues : issues.filter((issue) => issue.state === state);
  }
}
