import type { ApolloServerPlugin } from "@apollo/server";
import type { Metrics } from "./metrics";

/**
 * Counts each GraphQL operation over HTTP by its name, with its duration and whether its response holds
 * errors. The name is the resolved operation's (undefined when the document did not parse or validate).
 */
export function graphqlMetricsPlugin<C extends object>(metrics: Metrics): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operationName, response, errors }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const failed = (errors?.length ?? 0) > 0 || (response.body.kind === "single" && (response.body.singleResult.errors?.length ?? 0) > 0);
          metrics.graphqlOperation(operationName ?? undefined, seconds, failed);
        },
      };
    },
  };
}
