import { ArgsType, Field, ID } from "type-graphql";
import { IssueState } from "./issue-state";

@ArgsType()
export class VehicleIssueUpdatedArgs {
  @Field(() => ID, { nullable: true, description: "Only this vehicle's issues" })
  vehicleId?: string | null;

  @Field(() => IssueState, { nullable: true, description: "Only changes that leave the issue in this state" })
  state?: IssueState | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "Resume: first replay every issue change logged since this instant (inclusive), in order, then continue live with no gap and no duplicate",
  })
  since?: Date | null;
}
