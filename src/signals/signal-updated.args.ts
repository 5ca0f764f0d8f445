import { ArgsType, Field, ID } from "type-graphql";

@ArgsType()
export class SignalUpdatedArgs {
  @Field(() => ID, { nullable: true, description: "Only this vehicle's signals" })
  vehicleId?: string | null;

  @Field(() => [String], { nullable: true, description: "Only these signal codes (at most 100)" })
  codes?: string[] | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "Resume: first replay every value that became latest since this instant (by receivedAt, inclusive), in order, then continue live with no gap and no duplicate",
  })
  since?: Date | null;
}
