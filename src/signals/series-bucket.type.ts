import { Field, Float, Int, ObjectType } from "type-graphql";
import type { SeriesRow } from "./signal.service";

@ObjectType({ description: "One time bucket of a numeric signal; value fields are null when the bucket has no readings", simpleResolvers: true })
export class SeriesBucket implements SeriesRow {
  @Field(() => Date, { description: "Start of the bucket (inclusive); it ends where the next starts" })
  start: Date;

  @Field(() => Int, { description: "Numeric readings observed in the bucket" })
  count: number;

  @Field(() => Float, { nullable: true, description: "Value of the earliest reading" })
  first: number | null;

  @Field(() => Float, { nullable: true, description: "Value of the latest reading" })
  last: number | null;

  @Field(() => Float, { nullable: true })
  min: number | null;

  @Field(() => Float, { nullable: true })
  max: number | null;

  @Field(() => Float, { nullable: true })
  avg: number | null;
}
