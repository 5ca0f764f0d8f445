import { FieldResolver, Float, Resolver, Root, type ClassType } from "type-graphql";
import { SignalReading } from "./signal-reading.entity";
import { Signal } from "./signal.entity";
import { SignalValueKind, typedValue } from "./typed-value";
import { Location } from "./typed-value.type";

/**
 * `kind` and the typed fields of a value, read from its body with the rules that filled the stored
 * columns (typedValue), so every way to a value (latest, history, asOf, signalUpdated) answers alike.
 */
function typedValueResolver<T extends { body: unknown }>(type: ClassType<T>) {
  @Resolver(() => type)
  class TypedValueResolver {
    @FieldResolver(() => SignalValueKind, { description: "What the body holds; exactly the matching typed field below is set" })
    kind(@Root() value: T): SignalValueKind {
      return typedValue(value.body).kind;
    }

    @FieldResolver(() => Float, { nullable: true, description: "NUMBER: {value: 75, unit: \"percent\"}, {percentage: 75} ..." })
    number(@Root() value: T): number | null {
      return typedValue(value.body).number;
    }

    @FieldResolver(() => Boolean, { nullable: true, description: "BOOLEAN: {value: true}" })
    boolean(@Root() value: T): boolean | null {
      return typedValue(value.body).boolean;
    }

    @FieldResolver(() => String, { nullable: true, description: "TEXT: {value: \"CHARGING\"}" })
    text(@Root() value: T): string | null {
      return typedValue(value.body).text;
    }

    @FieldResolver(() => Location, { nullable: true, description: "LOCATION: {latitude, longitude, heading?, direction?, locationType?}" })
    location(@Root() value: T): Location | null {
      return typedValue(value.body).location;
    }
  }
  return TypedValueResolver;
}

export const SignalTypedValueResolver = typedValueResolver(Signal);
export const SignalReadingTypedValueResolver = typedValueResolver(SignalReading);
