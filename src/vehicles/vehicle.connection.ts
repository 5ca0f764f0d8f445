import { ObjectType } from "type-graphql";
import { Connection } from "../graphql/connection";
import { Vehicle } from "./vehicle.entity";

@ObjectType({ description: "A page of vehicles (Relay connection)" })
export class VehicleConnection extends Connection(Vehicle, "Vehicle") {}
