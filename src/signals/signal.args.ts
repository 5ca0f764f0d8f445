import { IsOptional, Length } from "class-validator";
import { ArgsType, Field } from "type-graphql";
import { SortDirection } from "../graphql/connection";
import { PaginationArgs } from "../graphql/pagination.args";

@ArgsType()
export class SignalHistoryArgs extends PaginationArgs {
  @Field(() => Date, { nullable: true, description: "Readings observed at or after this instant" })
  @IsOptional()
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "Readings observed before this instant" })
  @IsOptional()
  to?: Date | null;

  @Field(() => SortDirection, { nullable: true, defaultValue: SortDirection.DESC, description: "By observation time; default newest first" })
  @IsOptional()
  direction?: SortDirection | null;
}

@ArgsType()
export class SignalSeriesArgs {
  @Field(() => Date, { description: "Start of the first bucket (inclusive)" })
  from: Date;

  @Field(() => Date, { nullable: true, description: "End of the range (exclusive); default: now" })
  @IsOptional()
  to?: Date | null;

  @Field({ description: "Bucket width as an ISO-8601 duration of days, hours, minutes, seconds: PT15M, PT1H, P1D" })
  @Length(2, 40)
  interval: string;
}
