import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, Ctx, Extensions, ID, Info, Query, Resolver } from "type-graphql";
import { SortDirection, toConnection } from "../graphql/connection";
import type { Context } from "../graphql/context";
import { decodeCursor } from "../graphql/cursor";
import { badUserInput } from "../graphql/errors";
import { pageSize } from "../graphql/pagination.args";
import { VehicleConnection } from "./vehicle.connection";
import { vehiclesOf } from "./vehicle.loaders";
import { includesFor, useIncludes } from "./vehicle-includes";
import { Vehicle } from "./vehicle.entity";
import { WORK } from "../graphql/field-cost";
import { checkWhere, vehiclesWork } from "./vehicle-where";
import { VehicleService, type VehicleOrdering } from "./vehicle.service";
import { VehicleOrder, VehicleOrderField, VehiclesArgs } from "./vehicles.args";

@Resolver(() => Vehicle)
export class VehicleResolver {
  @Query(() => Vehicle, { nullable: true, description: "A vehicle by its Smartcar id; null when unknown or not yours" })
  vehicle(@Arg("id", () => ID) id: string, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Vehicle | null> {
    return vehiclesOf(ctx).vehicleWith(includesFor(info)).load(id);
  }

  @Query(() => VehicleConnection, { description: "The vehicles you may see, a page at a time" })
  @Extensions({ [WORK]: vehiclesWork })
  async vehicles(@Args(() => VehiclesArgs) args: VehiclesArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<VehicleConnection> {
    const ordering = orderingOf(args.orderBy);
    const kind = ordering.signal === undefined ? `vehicles:${ordering.field}:${ordering.direction}` : `vehicles:signal:${ordering.signal}:${ordering.direction}`;
    const conditions = checkWhere(args.where);
    const after = args.after == null ? undefined : decodeCursor(args.after, kind, VehicleService.cursorParts(ordering));
    const first = pageSize(args);
    const includes = includesFor(info, ["edges", "node"]);
    const page = await vehiclesOf(ctx).service.page(ctx.viewer, args, ordering, first, after, conditions, includes);
    for (const { node, raw } of page.rows) if (raw) useIncludes(includes, node, raw);
    return Object.assign(new VehicleConnection(), toConnection(page, first, kind, args.after ?? undefined));
  }
}

const MAX_CODE_LENGTH = 200;

/** `orderBy` as the service takes it: by one field or by one signal, never both. */
function orderingOf(orderBy: VehicleOrder | null | undefined): VehicleOrdering {
  const direction = orderBy?.direction ?? SortDirection.ASC;
  if (orderBy?.signal == null) return { field: orderBy?.field ?? VehicleOrderField.ID, direction };
  if (orderBy.field != null) throw badUserInput("`orderBy` takes either `field` or `signal`, not both", "orderBy");
  if (orderBy.signal.length === 0 || orderBy.signal.length > MAX_CODE_LENGTH) {
    throw badUserInput(`\`orderBy.signal\` must be 1 to ${MAX_CODE_LENGTH} characters`, "orderBy.signal");
  }
  return { signal: orderBy.signal, direction };
}
