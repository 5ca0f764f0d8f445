import { GraphQLError } from "graphql";
import type { Viewer } from "../auth/viewer";
import type { ChangeFeed } from "./change-feed";

/** What the WebSocket transport adds to the context of each operation on a connection. */
export interface LiveConnection {
  readonly feed: ChangeFeed;
  /** Disconnects this client because it does not read its events fast enough. */
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
    throw new GraphQLError("subscriptions are served over WebSocket (graphql-transport-ws) at /graphql", {
      extensions: { code: "BAD_REQUEST" },
    });
  }
  return { viewer: input.viewer, live: input.live };
}

/** Arguments are checked here, once per subscription: type-graphql validates a subscription's args on every event. */
export function checkCodes(codes: readonly string[] | null | undefined): readonly string[] | undefined {
  if (codes === null || codes === undefined) return undefined;
  if (codes.length > 100) {
    throw new GraphQLError("codes may list at most 100 signal codes", { extensions: { code: "BAD_USER_INPUT" } });
  }
  return codes;
}
