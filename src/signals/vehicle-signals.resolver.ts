import { Arg, Args, ArgsType, Ctx, Extensions, Field, FieldResolver, Resolver, Root } from "type-graphql";
import type { Context } from "../graphql/context";
import { LIST_SIZE, WORK } from "../graphql/field-cost";
import { Vehicle } from "../vehicles/vehicle.entity";
import { asOfWork, checkCodes, signalsSize } from "./signal-codes";
import { SignalError } from "./signal-error.entity";
import { Signal } from "./signal.entity";
import { includedLatest, signalsOf } from "./signal.loaders";

/**
 * Nothing here needs class-validator (any code may be asked for; `asOf` is parsed by its scalar), and
 * skipping it matters: these arguments are resolved once per vehicle of a page.
 */
@ArgsType()
export class VehicleSignalsArgs {
  @Field(() => [String], { nullable: true, description: "Only these signal codes (at most 100)" })
  codes?: string[] | null;

  @Field(() => Date, {
    nullable: true,
    description: "The values as they were at this instant (from history, by observation time); default: the latest",
  })
  asOf?: Date | null;
}

/** A vehicle's signals: latest values, values at an instant, failing signals. */
@Resolver(() => Vehicle)
export class VehicleSignalsResolver {
  @FieldResolver(() => [Signal], { description: "Latest good value of each signal (or, with asOf, the value at that instant)" })
  @Extensions({ [LIST_SIZE]: signalsSize, [WORK]: asOfWork })
  signals(
    @Root() vehicle: Vehicle,
    @Args(() => VehicleSignalsArgs, { validate: false }) { codes, asOf }: VehicleSignalsArgs,
    @Ctx() ctx: Context,
  ): Signal[] | Promise<Signal[]> {
    // Checked by hand (no class-validator here, see above): a long list, filtered once per vehicle of a page, costs seconds.
    const only = checkCodes(codes);
    const pick = (signals: Signal[]) => {
      if (only === undefined) return signals;
      const wanted = new Set(only);
      return signals.filter((signal) => wanted.has(signal.code));
    };
    if (asOf) return signalsOf(ctx).asOf(asOf).load(vehicle.id).then(pick);
    // Fetched with the vehicle (latestSignalsInclude): answered without a promise, once per vehicle of a page.
    const included = includedLatest.get(vehicle);
    return included ? pick(included) : signalsOf(ctx).latest.load(vehicle.id).then(pick);
  }

  @FieldResolver(() => Signal, { nullable: true, description: "Latest good value of one signal; null when never received" })
  signal(
    @Root() vehicle: Vehicle,
    @Arg("code", { description: "Smartcar signal code, e.g. tractionbattery-stateofcharge", validate: false }) code: string,
    @Ctx() ctx: Context,
  ): Signal | null | Promise<Signal | null> {
    const find = (signals: Signal[]) => signals.find((signal) => signal.code === code) ?? null;
    const included = includedLatest.get(vehicle);
    return included ? find(included) : signalsOf(ctx).latest.load(vehicle.id).then(find);
  }

  @FieldResolver(() => [SignalError], { description: "Signals currently failing" })
  signalErrors(@Root() vehicle: Vehicle, @Ctx() ctx: Context): Promise<SignalError[]> {
    return signalsOf(ctx).errors.load(vehicle.id);
  }
}
