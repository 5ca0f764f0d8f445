import { ObjectType } from "type-graphql";
import { Connection } from "../graphql/connection";
import { VehicleIssue } from "./vehicle-issue.entity";

@ObjectType({ description: "A page of vehicle issues (Relay connection)" })
export class VehicleIssueConnection extends Connection(VehicleIssue, "VehicleIssue") {}
