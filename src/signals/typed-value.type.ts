import { Field, Float, ObjectType, registerEnumType } from "type-graphql";
import { SignalValueKind, type TypedLocation } from "./typed-value";

registerEnumType(SignalValueKind, {
  name: "SignalValueKind",
  description: "What a signal body holds; exactly the matching one of number, boolean, text and location is set",
});

@ObjectType({ description: "A LOCATION value: Smartcar's {latitude, longitude, heading?, direction?, locationType?}" })
export class Location implements TypedLocation {
  @Field(() => Float)
  latitude: number;

  @Field(() => Float)
  longitude: number;

  @Field(() => Float, { nullable: true, description: "Degrees clockwise from north" })
  heading: number | null;

  @Field(() => String, { nullable: true, description: "N, NE, E, SE, S, SW, W or NW" })
  direction: string | null;

  @Field(() => String, { nullable: true, description: "e.g. CURRENT, LAST_PARKED" })
  locationType: string | null;
}
