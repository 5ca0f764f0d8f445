// Decorators below (and in the args class) read design-time types: load the polyfill first, whatever imports this.
import "reflect-metadata";
import { Args, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { liveInputOf } from "../changes/live";
import { checkCodes } from "./signal-codes";
import { SignalUpdatedArgs } from "./signal-updated.args";
import { Signal } from "./signal.entity";

@Resolver()
export class SignalSubscriptionResolver {
  @Subscription(() => Signal, {
    description:
      "Each value that became a vehicle's latest, once its delivery committed: never a duplicate, a late (older) reading or a TEST delivery",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, SignalUpdatedArgs, unknown>) => {
      const { viewer, live } = liveInputOf(context);
      const filter = { vehicleId: args.vehicleId ?? undefined, codes: checkCodes(args.codes), since: args.since ?? undefined };
      return live.feed.signalUpdated(viewer, filter, () => live.dropSlowClient());
    },
  })
  signalUpdated(@Root() signal: Signal, @Args() _args: SignalUpdatedArgs): Signal {
    return signal;
  }
}
