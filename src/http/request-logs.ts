import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fixedFieldsLogger, type Logger } from "../logger";
import type { Middleware } from "./middleware";

declare module "node:http" {
  interface IncomingMessage {
    /** The request's logger: every line it logs carries the request id (set by requestLogs, for every request). */
    log: Logger;
    /** The request id of `log`'s lines (set by requestLogs). */
    requestId?: string;
  }
}

/** A caller's X-Request-Id is kept only when it is a short plain token: it goes into every log line. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * One info line per request (method, path without its query string, status, duration), and a request
 * id on every line logged through `req.log`: the caller's `X-Request-Id` when usable, else a new UUID,
 * echoed in the response's `X-Request-Id`. No headers, query strings or bodies are logged: tokens,
 * signatures and locations travel in them. A 503 (the database being away, Smartcar retries) is logged
 * at warn, other 5xx (our bugs) at error; the error middleware has logged their error on the request's id.
 *
 * Written by hand (it was pino-http, configured to exactly this line): pino-http made two child loggers
 * per request and serialised the request into one of them, about a tenth of a small query's time.
 * Here `req.log` is made on first use, and most requests log nothing but their line. The line itself
 * holds only fields built here (a checked request id, method, cut path, status, duration): it goes
 * through fixedFieldsLogger, without redaction.
 */
export function requestLogs(logger: Logger): Middleware {
  const lines = fixedFieldsLogger(logger);
  return (req, res, next) => {
    const started = Date.now();
    const given = req.headers["x-request-id"];
    const requestId = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader("X-Request-Id", requestId);
    req.requestId = requestId;
    let child: Logger | undefined;
    Object.defineProperty(req, "log", {
      configurable: true,
      enumerable: false,
      get: () => (child ??= logger.child({ requestId })),
    });
    // "close" comes once per response, after "finish" or when the client went away first.
    res.once("close", () => logLine(lines, requestId, req, res, Date.now() - started));
    next();
  };
}

function logLine(logger: Logger, requestId: string, req: RoutedRequest, res: ServerResponse, durationMs: number): void {
  const status = res.statusCode;
  const level = status === 503 ? "warn" : status >= 500 ? "error" : "info";
  if (!logger.isLevelEnabled(level)) return;
  const path = pathOf(urlOf(req));
  logger[level]({ requestId, req: { method: req.method, path }, res: { status }, durationMs }, `${req.method} ${path} ${status}`);
}

/** Express rewrites `url` inside mounted routers; `originalUrl` keeps what the client asked for. */
type RoutedRequest = IncomingMessage & { originalUrl?: string };

function urlOf(req: RoutedRequest): string | undefined {
  return req.originalUrl ?? req.url;
}

/** The URL's path alone, cut: a query string may hold a token or a location. */
function pathOf(url: string | undefined): string {
  const path = (url ?? "").split("?", 1)[0];
  return path.length <= 200 ? path : `${path.slice(0, 200)}…`;
}
