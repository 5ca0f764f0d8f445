import { Field, Float, ObjectType } from "type-graphql";

@ObjectType("IssueEpisode", { description: "One period during which an issue was open" })
export class IssueEpisodeType {
  @Field(() => Date)
  openedAt: Date;

  @Field(() => Date, { nullable: true, description: "null while still open" })
  resolvedAt: Date | null;

  @Field(() => Float, { description: "How long it was open (until now, while still open)" })
  durationSeconds: number;
}
