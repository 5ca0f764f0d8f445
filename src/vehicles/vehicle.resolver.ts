import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import { canSee } from "../auth/viewer";
import type { Context } from "../graphql/context";
import { Vehicle } from "./vehicle.entity";

@Resolver(() => Vehicle)
export class VehicleResolver {
  @Query(() => Vehicle, { nullable: true, description: "A vehicle by its Smartcar id; null when unknown or not yours" })
  async vehicle(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Vehicle | null> {
    const vehicle = await ctx.dataSource.getRepository(Vehicle).findOneBy({ id });
    return vehicle && canSee(ctx.viewer, vehicle.userId) ? vehicle : null;
  }
}
