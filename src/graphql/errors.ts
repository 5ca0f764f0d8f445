import { GraphQLError } from "graphql";
import { ErrorCode } from "../error-codes";
import type { AppError } from "../errors";

/** A client sent an argument we cannot use (bad cursor, interval, range): HTTP 200 with BAD_USER_INPUT. */
export function badUserInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...(argument ? { argument } : {}) } });
}

/**
 * One of our errors (src/errors.ts: the one vocabulary of codes and statuses) as GraphQL answers it:
 * its code, any `details` beside it, and over HTTP its status for the whole response.
 */
export function graphqlErrorOf(error: AppError, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: { code: error.code, ...details, http: { status: error.status, headers: headersOf(error) } },
  });
}

function headersOf(error: AppError): Map<string, string> {
  return new Map(Object.entries(error.headers));
}

/** GraphQL's error body, `{"errors":[{"message","extensions":{"code"}}]}`: for an answer given before Apollo sees the request. */
export interface GraphQLErrorBody {
  readonly errors: readonly { readonly message: string; readonly extensions: { readonly code: ErrorCode } }[];
}

/** The one way to write an error as GraphQL's body without Apollo (which writes its own). */
export function graphqlErrorBody({ code, message }: { readonly code: ErrorCode; readonly message: string }): GraphQLErrorBody {
  return { errors: [{ message, extensions: { code } }] };
}
