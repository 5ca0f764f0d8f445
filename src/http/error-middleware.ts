import type { ErrorRequestHandler, RequestHandler } from "express";
import { isDatabaseUnavailable } from "../db/pg-errors";
import { ErrorCode } from "../error-codes";
import { AppError, BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType } from "../errors";
import type { Logger } from "../logger";

/** Body-parser failures are the client's: map them onto our vocabulary. */
function fromBodyParser(error: { type?: unknown; limit?: unknown }): AppError | undefined {
  switch (error.type) {
    case "entity.too.large":
      return new PayloadTooLarge(Number(error.limit));
    case "entity.parse.failed":
      return new BadRequest("request body is not valid JSON", ErrorCode.MALFORMED_JSON);
    case "encoding.unsupported":
    case "charset.unsupported":
      return new UnsupportedMediaType("unsupported content encoding or charset");
    case "request.aborted":
    case "request.size.invalid":
      return new BadRequest("request body was incomplete");
    default:
      return fromUnreadableBody(error as { status?: unknown; code?: unknown });
  }
}

/**
 * body-parser marks every other failure to read a body as the client's (http-errors, status 4xx):
 * above all a body that does not inflate as its Content-Encoding says (zlib's `Z_DATA_ERROR`).
 */
function fromUnreadableBody(error: { status?: unknown; code?: unknown }): AppError | undefined {
  if (typeof error.status !== "number" || error.status < 400 || error.status > 499) return undefined;
  const message =
    typeof error.code === "string" && error.code.startsWith("Z_")
      ? "request body does not decode as its Content-Encoding says"
      : "request body could not be read";
  return new AppError(error.status, error.status === 400 ? ErrorCode.BAD_REQUEST : ErrorCode.CLIENT_ERROR, message);
}

/** After every route: an unknown path gets the contract's JSON error, not express's HTML page. */
export function notFound(): RequestHandler {
  return (req, _res, next) => next(new NotFound(`no route for ${req.method} ${req.path.slice(0, 200)}`));
}

/** The contract's error body of webhooks and every other REST route (GraphQL's is graphqlErrorBody). */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/** The one way to write an error as `{"error":{"code","message"}}`. */
export function errorBody({ code, message }: { readonly code: ErrorCode; readonly message: string }): ErrorBody {
  return { error: { code, message } };
}

/** What an error is answered with: status, extra headers and the contract's JSON body. */
export interface ErrorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorBody;
}

/**
 * The one place REST errors become answers: `{"error":{"code","message"}}` with the error's status.
 * Anything unknown is a 500 for us to fix, logged in full and reported without detail. `log` is the
 * request's logger (with its id) when request logging is on.
 */
export function errorAnswer(error: unknown, log: Logger, method: string | undefined, path: string): ErrorAnswer {
  const known =
    error instanceof AppError
      ? error
      : (fromBodyParser(error as { type?: unknown }) ?? (isDatabaseUnavailable(error) ? new ServiceUnavailable() : undefined));
  if (known === undefined) {
    log.error({ err: error, method, path }, "unhandled request error");
  } else if (known.status >= 500) {
    log.warn({ err: error, method, path }, known.message);
  }
  const answered = known ?? new AppError(500, ErrorCode.INTERNAL_SERVER_ERROR, "internal error");
  return { status: answered.status, headers: answered.headers, body: errorBody(answered) };
}

/** errorAnswer for express. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const answer = errorAnswer(error, req.log ?? logger, req.method, req.path);
    if (res.headersSent) return;
    res.status(answer.status).set(answer.headers).json(answer.body);
  };
}
