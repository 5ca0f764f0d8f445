import { IsInt, IsOptional, Max, Min, MinLength } from "class-validator";
import { ArgsType, Field, ID, InputType, Int, registerEnumType } from "type-graphql";
import { SortDirection } from "../graphql/connection";
import { PaginationArgs } from "../graphql/pagination.args";
import { VehicleWhere } from "./vehicle-where";

export enum VehicleOrderField {
  ID = "ID",
  LAST_SEEN_AT = "LAST_SEEN_AT",
  FIRST_SEEN_AT = "FIRST_SEEN_AT",
}
registerEnumType(VehicleOrderField, { name: "VehicleOrderField" });

@InputType({ description: "Order of `vehicles` by a field or by a signal's value (one of them); ties are broken by id in the same direction" })
export class VehicleOrder {
  @Field(() => VehicleOrderField, { nullable: true })
  field?: VehicleOrderField | null;

  @Field(() => String, {
    nullable: true,
    description: "A signal code: by its latest NUMBER value (e.g. tractionbattery-stateofcharge, ASC: lowest charge first); vehicles without one come last",
  })
  signal?: string | null;

  @Field(() => SortDirection, { defaultValue: SortDirection.ASC })
  direction: SortDirection;
}

@ArgsType()
export class VehiclesArgs extends PaginationArgs {
  @Field(() => String, { nullable: true, description: "Exact make, case-insensitive (e.g. TESLA)" })
  @IsOptional()
  @MinLength(1)
  make?: string | null;

  @Field(() => String, { nullable: true, description: "Exact model, case-insensitive" })
  @IsOptional()
  @MinLength(1)
  model?: string | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1886)
  @Max(3000)
  year?: number | null;

  @Field(() => ID, { nullable: true, description: "Smartcar user id; a non-admin caller only ever sees their own" })
  @IsOptional()
  userId?: string | null;

  @Field(() => Date, { nullable: true, description: "Only vehicles last seen at or after this instant" })
  @IsOptional()
  lastSeenAfter?: Date | null;

  @Field(() => Date, { nullable: true, description: "Only vehicles last seen before this instant" })
  @IsOptional()
  lastSeenBefore?: Date | null;

  @Field(() => VehicleOrder, { nullable: true, description: "Default: by id, ascending" })
  @IsOptional()
  orderBy?: VehicleOrder | null;

  @Field(() => VehicleWhere, { nullable: true, description: "Conditions on the vehicles' latest signal values, all at once" })
  @IsOptional()
  where?: VehicleWhere | null;
}
