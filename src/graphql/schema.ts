import path from "node:path";
import type { GraphQLSchema } from "graphql";
import { buildSchema, type NonEmptyArray } from "type-graphql";
import { IssueResolver } from "../issues/issue.resolver";
import { SignalErrorResolver } from "../signals/signal-error.resolver";
import { SignalResolver } from "../signals/signal.resolver";
import { VehicleResolver } from "../vehicles/vehicle.resolver";
import { DateTimeScalar } from "./scalars";

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [VehicleResolver, SignalResolver, SignalErrorResolver, IssueResolver];

export const SCHEMA_FILE = path.join(__dirname, "..", "..", "schema.graphql");

/** Builds the executable schema from the decorated classes (the single source of `schema.graphql`). */
export async function buildAppSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: true,
  });
}
