import type { IncomingMessage, ServerResponse } from "node:http";
import { BadRequest, PayloadTooLarge } from "../errors";
import type { Logger } from "../logger";
import { requestLogs } from "./request-logs";
import { apiSecurityHeaders } from "./security-headers";

/**
 * What the node:http fast paths share. The two busiest routes (Smartcar's deliveries and GraphQL
 * POSTs) answer their plain requests before express sees them: express's routing, request and
 * response wrappers and body parsers cost more a request than the work they lead to
 * (bench/RESULTS.md). Anything else (another type or charset, an encoding, another method) takes
 * the express route, whose answers the fast path keeps to.
 */

/** The Content-Types a fast path takes: JSON in UTF-8 (what Smartcar and GraphQL clients send). */
const PLAIN_JSON = /^application\/json[ \t]*(?:;[ \t]*charset=(?:utf-8|"utf-8")[ \t]*)?$/i;

/** Answers a request it takes and says so; false, touching nothing, when the request is not its own. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * A fast path: for a POST of plain JSON to `path` (query string allowed), the request line and the security
 * headers every answer gets, then `answer`; false, touching nothing, for any other request (express's).
 */
export function fastRoute(path: string, logger: Logger, answer: (req: IncomingMessage, res: ServerResponse) => void): FastPath {
  const logRequest = requestLogs(logger);
  return (req, res) => {
    // Another type or charset, an encoding, no body: express's route words those answers.
    if (!isPlainJsonRequest(req, "POST", path)) return false;
    logRequest(req, res, () => undefined);
    apiSecurityHeaders(req, res, () => undefined);
    answer(req, res);
    return true;
  };
}

/** Whether `req` is a `method` to `path` (query string allowed) with a plain JSON body, identity-encoded. */
function isPlainJsonRequest(req: IncomingMessage, method: string, path: string): boolean {
  if (req.method !== method || (req.url !== path && !req.url?.startsWith(`${path}?`))) return false;
  const { "content-type": type, "content-length": length, "transfer-encoding": chunked } = req.headers;
  // Without a body (express's req.is test) the express route words the answer.
  if (type === undefined || !PLAIN_JSON.test(type) || (length === undefined && chunked === undefined)) return false;
  return isIdentity(req.headers["content-encoding"]);
}

export function isIdentity(contentEncoding: string | undefined): boolean {
  return contentEncoding === undefined || contentEncoding.trim().toLowerCase() === "identity";
}

/**
 * The request's body in one Buffer, as express's body parsers read it: past `limit` bytes (declared
 * or sent) the rest is read off and dropped, then a 413; a request cut short is a 400 no one will read.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = Number(req.headers["content-length"]) > limit;
    req.on("data", (chunk: Buffer) => {
      if (tooLarge) return;
      received += chunk.length;
      if (received > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => {
      if (tooLarge) reject(new PayloadTooLarge(limit));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    });
    req.on("error", () => reject(new BadRequest("request body was incomplete")));
  });
}

/** Answers with `body` as JSON, unless the response is already under way or gone. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}
