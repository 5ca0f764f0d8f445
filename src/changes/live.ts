import { graphqlErrorOf } from "../graphql/errors";
import { AppError } from "../errors";
import type { Viewer } from "../auth/viewer";
import type { Hub } from "./hub";

/** What the WebSocket transport adds to the context of each operation on a connection. */
export interface LiveConnection {
  readonly hub: Hub;
  /** Disconnects this client because it does not read its changes fast enough. */
  dropSlowClient(): void;
}

export interface LiveInput {
  readonly viewer: Viewer;
  readonly live: LiveConnection;
}

/** The caller and its connection, from a subscription's context; subscriptions exist only over WebSocket. */
export function liveInputOf(context: unknown): LiveInput {
  const input = context as Partial<LiveInput> | undefined;
  if (!input?.live || !input.viewer) {
    throw graphqlErrorOf(new AppError(400, "OPERATION_NOT_SUPPORTED", "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql"));
  }
  return { viewer: input.viewer, live: input.live };
}
