import { GraphQLError } from "graphql";

/** A client sent an argument we cannot use (bad cursor, interval, range): HTTP 200 with BAD_USER_INPUT. */
export function badUserInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", ...(argument ? { argument } : {}) } });
}
