import type { GraphQLFormattedError } from "graphql";
import { GraphQLError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import { isDatabaseUnavailable } from "../db/pg-errors";
import { AppError, ServiceUnavailable } from "../errors";
import type { Logger } from "../logger";

/**
 * Apollo `formatError`: errors we raise on purpose (AppError, GraphQLError: validation, bad input,
 * limits) keep their message and `extensions.code`; a database outage becomes SERVICE_UNAVAILABLE;
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
    return { message: "Internal server error", ...where, extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
