import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pinoHttp, type HttpLogger } from "pino-http";
import { serializeError, type Logger } from "../logger";

/** A caller's X-Request-Id is kept only when it is a short plain token: it goes into every log line. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * One info line per request (method, path without its query string, status, duration), and a request
 * id on every line logged through `req.log`: the caller's `X-Request-Id` when usable, else a new UUID,
 * echoed in the response's `X-Request-Id`. No headers, query strings or bodies are logged: tokens,
 * signatures and locations travel in them.
 */
export function requestLogs(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId(req: IncomingMessage, res: ServerResponse): string {
      const given = req.headers["x-request-id"];
      const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader("X-Request-Id", id);
      return id;
    },
    // Under the key other lines use, so one search finds a request's every line.
    customAttributeKeys: { reqId: "requestId", responseTime: "durationMs" },
    quietReqLogger: true,
    // Ours alone: pino-http's own would log every header, and its `err` would replace the logger's bounded one.
    wrapSerializers: false,
    serializers: {
      req: (req: RoutedRequest) => ({ method: req.method, path: pathOf(urlOf(req)) }),
      res: (res: ServerResponse) => ({ status: res.statusCode }),
      err: serializeError,
    },
    // A 503 is the database being away (Smartcar retries), worth a warning; other 5xx are our bugs.
    customLogLevel: (_req, res) => (res.statusCode === 503 ? "warn" : res.statusCode >= 500 ? "error" : "info"),
    // pino-http makes up an error ("failed with status code 503") for every 5xx; the error middleware
    // has logged the real one on this request's id already.
    customErrorObject: (_req, _res, _error, logged: Record<string, unknown>) => {
      const { err: _made, ...line } = logged;
      return line;
    },
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(urlOf(req))} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(urlOf(req))} ${res.statusCode}`,
  });
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
