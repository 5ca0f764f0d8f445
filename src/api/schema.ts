import path from "node:path";
import type { GraphQLSchema } from "graphql";
import { createPubSub } from "@graphql-yoga/subscription";
import { buildSchema, type NonEmptyArray } from "type-graphql";
import { IssueSubscriptionResolver } from "../issues/issue-subscription.resolver";
import { IssueResolver } from "../issues/issue.resolver";
import { VehicleIssuesResolver } from "../issues/vehicle-issues.resolver";
import { SignalErrorResolver } from "../signals/signal-error.resolver";
import { SignalSubscriptionResolver } from "../signals/signal-subscription.resolver";
import { SignalResolver } from "../signals/signal.resolver";
import { SignalReadingTypedValueResolver, SignalTypedValueResolver } from "../signals/typed-value.resolver";
import { VehicleSignalsResolver } from "../signals/vehicle-signals.resolver";
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
  return buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: true,
    // Required by type-graphql once a @Subscription exists; ours bring their own `subscribe` (src/subscriptions).
    pubSub: createPubSub(),
  });
}
