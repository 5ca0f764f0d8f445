import { Arg, Args, Ctx, ID, Query, Resolver } from "type-graphql";
import { SortDirection, toConnection } from "../graphql/connection";
import type { Context } from "../graphql/context";
import { decodeCursor } from "../graphql/cursor";
import { pageSize } from "../graphql/pagination.args";
import { VehicleConnection } from "./vehicle.connection";
import { vehiclesOf } from "./vehicle.loaders";
import { Vehicle } from "./vehicle.entity";
import { VehicleService } from "./vehicle.service";
import { VehicleOrderField, VehiclesArgs } from "./vehicles.args";

@Resolver(() => Vehicle)
export class VehicleResolver {
  @Query(() => Vehicle, { nullable: true, description: "A vehicle by its Smartcar id; null when unknown or not yours" })
  vehicle(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Vehicle | null> {
    return vehiclesOf(ctx).vehicle.load(id);
  }

  @Query(() => VehicleConnection, { description: "The vehicles you may see, a page at a time" })
  async vehicles(@Args(() => VehiclesArgs) args: VehiclesArgs, @Ctx() ctx: Context): Promise<VehicleConnection> {
    const ordering = { field: args.orderBy?.field ?? VehicleOrderField.ID, direction: args.orderBy?.direction ?? SortDirection.ASC };
    const kind = `vehicles:${ordering.field}:${ordering.direction}`;
    const after = args.after == null ? undefined : decodeCursor(args.after, kind, VehicleService.cursorParts(ordering.field));
    const first = pageSize(args);
    const page = await vehiclesOf(ctx).service.page(ctx.viewer, args, ordering, first, after);
    return Object.assign(new VehicleConnection(), toConnection(page, first, kind, args.after ?? undefined));
  }
}
