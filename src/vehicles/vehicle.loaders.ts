import DataLoader from "dataloader";
import { perOperation } from "../graphql/context";
import { useIncludes, type IncludePlan } from "./vehicle-includes";
import { VehicleService } from "./vehicle.service";

/**
 * The vehicles part of one operation. `vehicle` applies the viewer's scope itself: a vehicle the
 * viewer may not see loads as null, exactly like an unknown one. `vehicleWith(includes)` is the same,
 * and hands what the includes fetched in the same statement to their features.
 */
export const vehiclesOf = perOperation((ctx) => {
  const service = new VehicleService(ctx.dataSource);
  const loader = (includes: readonly IncludePlan[]) =>
    new DataLoader(async (ids: readonly string[]) => {
      const found = new Map(
        (await service.byIds(ctx.viewer, ids, includes)).map(({ vehicle, row }) => {
          useIncludes(includes, vehicle, row);
          return [vehicle.id, vehicle];
        }),
      );
      return ids.map((id) => found.get(id) ?? null);
    });
  const vehicle = loader([]);
  const withIncludes = new Map<string, ReturnType<typeof loader>>();
  return {
    service,
    vehicle,
    vehicleWith: (includes: readonly IncludePlan[]) => {
      if (includes.length === 0) return vehicle;
      // One loader per set of includes (few: each feature registers one).
      const key = includes.map((include) => include.key).join("|");
      let made = withIncludes.get(key);
      if (!made) withIncludes.set(key, (made = loader(includes)));
      return made;
    },
  };
});
