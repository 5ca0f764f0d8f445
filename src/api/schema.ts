import path from "node:path";
import type { GraphQLObjectType, GraphQLSchema } from "graphql";
import { createPubSub } from "@graphql-yoga/subscription";
import { buildSchema, type NonEmptyArray } from "type-graphql";
import { IssueSubscriptionResolver } from "../issues/issue-subscription.resolver";
import { IssueResolver } from "../issues/issue.resolver";
import { VehicleIssuesResolver } from "../issues/vehicle-issues.resolver";
import { SignalErrorResolver } from "../signals/signal-error.resolver";
import { SignalSubscriptionResolver } from "../signals/signal-subscription.resolver";
import { SignalResolver } from "../signals/signal.resolver";
import { SignalReadingTypedValueResolver, SignalTypedValueResolver } from "../signals/typed-value.resolver";
import { VehicleSignalsResolver, type VehicleSignalsArgs } from "../signals/vehicle-signals.resolver";
import type { Vehicle } from "../vehicles/vehicle.entity";
import type { Context } from "../graphql/context";
import { VehicleResolver } from "../vehicles/vehicle.resolver";
import { FleetSummaryResolver } from "../vehicles/fleet-summary.resolver";
import { IssueCountsResolver } from "../issues/issue-counts.resolver";
import { SignalErrorCountsResolver } from "../signals/signal-error-counts.resolver";
import { DateTimeScalar } from "../graphql/scalars";
import { ForgetUserResolver } from "./forget-user.resolver";
import { latestSignalsInclude } from "../signals/signal.loaders";
import { registerVehicleInclude } from "../vehicles/vehicle-includes";

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [
  VehicleResolver,
  VehicleSignalsResolver,
  VehicleIssuesResolver,
  SignalResolver,
  SignalErrorResolver,
  IssueResolver,
  SignalSubscriptionResolver,
  IssueSubscriptionResolver,
  SignalTypedValueResolver,
  SignalReadingTypedValueResolver,
  FleetSummaryResolver,
  IssueCountsResolver,
  SignalErrorCountsResolver,
  ForgetUserResolver,
];

export const SCHEMA_FILE = path.join(__dirname, "..", "..", "schema.graphql");

/** Builds the executable schema from the decorated classes (the single source of `schema.graphql`). */
export async function buildAppSchema(): Promise<GraphQLSchema> {
  // A vehicle's latest signals come in the vehicle's own statement when a query asks for both.
  registerVehicleInclude(latestSignalsInclude);
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: true,
    // Required by type-graphql once a @Subscription exists; ours bring their own `subscribe` (src/subscriptions).
    pubSub: createPubSub(),
  });
  resolveDirectly(schema);
  return schema;
}

/**
 * type-graphql hands every @Arg and @Args through an async `validateArg`, even with validation off, so a
 * field with arguments always answers a promise: on a page, one per vehicle, which graphql-js then
 * awaits object by object (about a tenth of a 100-vehicle page's CPU; bench/RESULTS.md). The two fields
 * answered from the vehicle's own row are called directly: their arguments need neither conversion nor
 * validation (they opt out of it), and no middleware is registered.
 */
function resolveDirectly(schema: GraphQLSchema): void {
  const fields = (schema.getType("Vehicle") as GraphQLObjectType).getFields();
  const resolver = new VehicleSignalsResolver();
  fields.signals.resolve = (vehicle, args, ctx) => resolver.signals(vehicle as Vehicle, args as VehicleSignalsArgs, ctx as Context);
  fields.signal.resolve = (vehicle, args, ctx) => resolver.signal(vehicle as Vehicle, (args as { code: string }).code, ctx as Context);
}
