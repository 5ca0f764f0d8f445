import DataLoader from "dataloader";
import { perOperation } from "../graphql/context";
import { VehicleService } from "./vehicle.service";

/**
 * The vehicles part of one operation. `vehicle` applies the viewer's scope itself: a vehicle the
 * viewer may not see loads as null, exactly like an unknown one.
 */
export const vehiclesOf = perOperation(({ dataSource, viewer }) => {
  const service = new VehicleService(dataSource);
  return {
    service,
    vehicle: new DataLoader(async (ids: readonly string[]) => {
      const found = new Map((await service.byIds(viewer, ids)).map((vehicle) => [vehicle.id, vehicle]));
      return ids.map((id) => found.get(id) ?? null);
    }),
  };
});
