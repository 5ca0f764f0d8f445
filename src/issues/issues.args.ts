import { IsOptional, MinLength } from "class-validator";
import { ArgsType, Field, ID, InputType, registerEnumType } from "type-graphql";
import { SortDirection } from "../graphql/connection";
import { PaginationArgs } from "../graphql/pagination.args";
import { IssueState } from "./issue-state";

export enum IssueOrderField {
  OPENED_AT = "OPENED_AT",
  UPDATED_AT = "UPDATED_AT",
  LAST_SEEN_AT = "LAST_SEEN_AT",
}
registerEnumType(IssueOrderField, { name: "IssueOrderField" });

@InputType({ description: "Order of `issues`; ties are broken by id in the same direction" })
export class IssueOrder {
  @Field(() => IssueOrderField)
  field: IssueOrderField;

  @Field(() => SortDirection, { defaultValue: SortDirection.DESC })
  direction: SortDirection;
}

@ArgsType()
export class IssuesArgs extends PaginationArgs {
  @Field(() => IssueState, { nullable: true })
  @IsOptional()
  state?: IssueState | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  vehicleId?: string | null;

  @Field(() => String, { nullable: true, description: "e.g. COMPATIBILITY" })
  @IsOptional()
  @MinLength(1)
  type?: string | null;

  @Field(() => String, { nullable: true, description: "e.g. VEHICLE_NOT_CAPABLE" })
  @IsOptional()
  @MinLength(1)
  code?: string | null;

  @Field(() => ID, { nullable: true, description: "Smartcar user id; a non-admin caller only ever sees their own" })
  @IsOptional()
  userId?: string | null;

  @Field(() => Date, { nullable: true, description: "Only issues whose current episode opened at or after this instant" })
  @IsOptional()
  openedAfter?: Date | null;

  @Field(() => Date, { nullable: true, description: "Only issues whose current episode opened before this instant" })
  @IsOptional()
  openedBefore?: Date | null;

  @Field(() => Date, { nullable: true, description: "Only issues changed at or after this instant" })
  @IsOptional()
  updatedAfter?: Date | null;

  @Field(() => IssueOrder, { nullable: true, description: "Default: most recently opened first" })
  @IsOptional()
  orderBy?: IssueOrder | null;
}
