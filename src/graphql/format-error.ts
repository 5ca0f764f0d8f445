import type { GraphQLFormattedError } from "graphql";
import { GraphQLError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import type { ValidationError } from "class-validator";
import { ArgumentValidationError } from "type-graphql";
import { isDatabaseUnavailable, isStatementTimeout } from "../db/pg-errors";
import { ErrorCode } from "../error-codes";
import { AppError, ServiceUnavailable } from "../errors";
import type { Logger } from "../logger";

/**
 * Apollo `formatError`: errors we raise on purpose (AppError, GraphQLError: validation, bad input,
 * limits) keep their message and `extensions.code`; an argument class-validator refused is one line naming
 * it (as the hand-written checks say it: `badUserInput`); a statement cancelled at GRAPHQL_STATEMENT_TIMEOUT_MS
 * becomes QUERY_TIMEOUT; a database outage becomes SERVICE_UNAVAILABLE;
 * anything else is logged in full and answered as INTERNAL_SERVER_ERROR, so no SQL, stack or
 * driver detail reaches a client.
 */
export function createFormatError(logger: Logger): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const original = unwrapResolverError(error);
    const where = { path: formatted.path, locations: formatted.locations };
    if (original instanceof AppError) {
      return { message: original.message, ...where, extensions: { code: original.code } };
    }
    if (original instanceof ArgumentValidationError) {
      const { message, argument } = describeInvalidArgument(original);
      return { message, ...where, extensions: { code: ErrorCode.BAD_USER_INPUT, argument } };
    }
    if (isStatementTimeout(original)) {
      // The caller's own query, not an outage: the same query would be cancelled again.
      logger.warn({ path: formatted.path }, "GraphQL: statement cancelled at GRAPHQL_STATEMENT_TIMEOUT_MS");
      const message = "the query took longer than the server allows and was cancelled: ask for less (smaller pages, fewer conditions, shorter ranges)";
      return { message, ...where, extensions: { code: ErrorCode.QUERY_TIMEOUT } };
    }
    if (isDatabaseUnavailable(original)) {
      logger.warn({ err: original, path: formatted.path }, "GraphQL: database unavailable");
      const unavailable = new ServiceUnavailable();
      return { message: unavailable.message, ...where, extensions: { code: unavailable.code } };
    }
    if (original instanceof GraphQLError) {
      // `http` sets the HTTP answer's status and headers (Apollo reads it first); no client needs it in the body.
      const { stacktrace: _stacktrace, http: _http, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    logger.error({ err: original, path: formatted.path }, "GraphQL: internal error");
    return { message: "Internal server error", ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}

/**
 * The first refused argument of type-graphql's ArgumentValidationError, whose `validationErrors`
 * (class-validator's, with the instance validated and every constraint) a client must not see.
 * Our validated arguments are all `@Args()` classes, so a property is an argument name and children
 * are nested input fields: `where.signals[0].lt`.
 */
function describeInvalidArgument(error: ArgumentValidationError): { message: string; argument: string } {
  const errors = (error.extensions.validationErrors ?? []) as ValidationError[];
  let path = "";
  for (let current: ValidationError | undefined = errors[0]; current; current = current.children?.[0]) {
    path = /^\d+$/.test(current.property) ? `${path}[${current.property}]` : path ? `${path}.${current.property}` : current.property;
    const constraint = Object.values(current.constraints ?? {})[0];
    if (constraint !== undefined) {
      // class-validator words the message with the bare property: say the path instead.
      const rule = constraint.replace(new RegExp(`^(each value in )?(nested property )?${current.property} `), "");
      return { message: `\`${path}\` ${rule}`, argument: path };
    }
  }
  return { message: path ? `\`${path}\` is invalid` : "an argument is invalid", argument: path };
}
