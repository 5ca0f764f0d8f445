// Decorators below (and in the args class) read design-time types: load the polyfill first, whatever imports this.
import "reflect-metadata";
import { Args, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { canSee, scopeOf } from "../auth/viewer";
import type { SignalChanged } from "../changes/change";
import { liveInputOf } from "../changes/hub";
import type { SubscriptionSource } from "../changes/resumable";
import { replaySignals, signalsByReadingIds } from "./signal-changes";
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
      const { hub } = live;
      const filter = { vehicleId: args.vehicleId ?? undefined, codes: checkCodes(args.codes), userId: scopeOf(viewer) };
      const codes = filter.codes ? new Set(filter.codes) : undefined;
      const payloads = hub.payloads(signalsByReadingIds);
      const source: SubscriptionSource<SignalChanged, Signal> = {
        accept: (message) =>
          message.kind === "signal" &&
          canSee(viewer, message.userId) &&
          (filter.vehicleId === undefined || message.vehicleId === filter.vehicleId) &&
          (codes === undefined || codes.has(message.code))
            ? message
            : undefined,
        keyOf: (change) => change.readingId,
        load: (change) => payloads.load(change.readingId),
        replay: (since, after, limit) => hub.replay(() => replaySignals(hub.dataSource, filter, since, limit, after)),
      };
      return hub.open(source, args.since ?? undefined, () => live.dropSlowClient());
    },
  })
  signalUpdated(@Root() signal: Signal, @Args() _args: SignalUpdatedArgs): Signal {
    return signal;
  }
}
