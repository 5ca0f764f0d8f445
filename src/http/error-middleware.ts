import type { ErrorRequestHandler } from "express";
import { isDatabaseUnavailable } from "../db/pg-errors";
import { AppError, BadRequest, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType } from "../errors";
import type { Logger } from "../logger";

/** Body-parser failures are the client's: map them onto our vocabulary. */
function fromBodyParser(error: { type?: unknown; limit?: unknown }): AppError | undefined {
  switch (error.type) {
    case "entity.too.large":
      return new PayloadTooLarge(Number(error.limit));
    case "entity.parse.failed":
      return new BadRequest("request body is not valid JSON", "MALFORMED_JSON");
    case "encoding.unsupported":
    case "charset.unsupported":
      return new UnsupportedMediaType("unsupported content encoding or charset");
    case "request.aborted":
    case "request.size.invalid":
      return new BadRequest("request body was incomplete");
    default:
      return undefined;
  }
}

/**
 * The one place REST errors become responses: `{"error":{"code","message"}}` with the error's status.
 * Anything unknown is a 500 for us to fix, logged in full and reported without detail.
 */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const known =
      error instanceof AppError
        ? error
        : (fromBodyParser(error as { type?: unknown }) ??
          (isDatabaseUnavailable(error) ? new ServiceUnavailable() : undefined));
    if (known === undefined) {
      logger.error({ err: error, method: req.method, path: req.path }, "unhandled request error");
    } else if (known.status >= 500) {
      logger.warn({ err: error, method: req.method, path: req.path }, known.message);
    }
    const status = known?.status ?? 500;
    if (res.headersSent) return;
    res
      .status(status)
      .set(known?.headers ?? {})
      .json({ error: { code: known?.code ?? "INTERNAL_SERVER_ERROR", message: known?.message ?? "internal error" } });
  };
}
