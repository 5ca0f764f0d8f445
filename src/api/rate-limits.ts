import type { IncomingMessage } from "node:http";
import { ipKeyGenerator, rateLimit } from "express-rate-limit";
import { sendJson } from "../http/fast-path";
import type { Middleware } from "../http/middleware";
import { verifiedViewerOf } from "./authenticate";

/** Requests per minute on `/graphql`; 0 turns a limit off. */
export interface GraphQLRateLimits {
  /** Per verified token: its `sub` (a user), or the admin's subject. */
  readonly perToken: number;
  /** Per client IP (the socket's peer address); every request counts, with or without a valid token. */
  readonly perIp: number;
}

const WINDOW_MS = 60_000;

/** The per-token key: only a verified token has one, so a forged `sub` can never spend another user's budget. */
function tokenKey(req: IncomingMessage): string | undefined {
  const viewer = verifiedViewerOf(req);
  if (viewer?.kind === "user") return `user:${viewer.userId}`;
  if (viewer?.kind === "admin") return `admin:${viewer.subject ?? ""}`;
  return undefined;
}

/** The peer's address, as express's `req.ip` gives it without `trust proxy` (IPv6 grouped by /56, as the library does). */
function ipKey(req: IncomingMessage): string {
  return ipKeyGenerator(req.socket.remoteAddress ?? "");
}

function limiter(limit: number, what: string, keyOf: (req: IncomingMessage) => string | undefined): Middleware {
  const middleware = rateLimit({
    windowMs: WINDOW_MS,
    limit,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    keyGenerator: (req) => keyOf(req) ?? "",
    skip: (req) => keyOf(req) === undefined,
    // The contract's GraphQL error shape; Retry-After is set by the limiter before this runs.
    handler: (_req, res) => {
      sendJson(res, 429, {
        errors: [{ message: `too many requests: at most ${limit} a minute ${what}; retry after Retry-After seconds`, extensions: { code: "RATE_LIMITED" } }],
      });
    },
  });
  // With our own key and answer the limiter reads only headers and the socket and sets headers: it runs on
  // node:http's request and response as well as express's (the GraphQL fast path has no express objects).
  return middleware as unknown as Middleware;
}

/**
 * Rate limits of `/graphql`, in the order they must run: `perIp` first (before anything costs work:
 * requests without a valid token are limited by it alone), `perToken` after `authenticate`.
 * Counters live in this process's memory: with several instances each counts its own requests.
 */
export function graphqlRateLimits(limits: GraphQLRateLimits): { perIp: Middleware[]; perToken: Middleware[] } {
  return {
    perIp: limits.perIp > 0 ? [limiter(limits.perIp, "per client IP", ipKey)] : [],
    perToken: limits.perToken > 0 ? [limiter(limits.perToken, "per token", tokenKey)] : [],
  };
}
