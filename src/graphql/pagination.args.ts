import { IsInt, IsOptional, Max, Min } from "class-validator";
import { ArgsType, Field, Int } from "type-graphql";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./connection";

/** Relay forward pagination, bounded (contract: default 20, at most 100). */
@ArgsType()
export class PaginationArgs {
  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE, description: `Page size, 1 to ${MAX_PAGE_SIZE}` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first?: number | null;

  @Field(() => String, { nullable: true, description: "`endCursor` of the previous page" })
  @IsOptional()
  after?: string | null;
}

/** `first` as a number (an explicit `null` means the default). */
export function pageSize(args: PaginationArgs): number {
  return args.first ?? DEFAULT_PAGE_SIZE;
}
