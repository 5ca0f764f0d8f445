import type { Request, RequestHandler, Response } from "express";
import { rateLimit } from "express-rate-limit";
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
function tokenKey(res: Response): string | undefined {
  const viewer = verifiedViewerOf(res);
  if (viewer?.kind === "user") return `user:${viewer.userId}`;
  if (viewer?.kind === "admin") return `admin:${viewer.subject ?? ""}`;
  return undefined;
}

function limiter(limit: number, what: string, keyOf?: (res: Response) => string | undefined): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    ...(keyOf ? { keyGenerator: (_req: Request, res: Response) => keyOf(res) ?? "", skip: (_req: Request, res: Response) => keyOf(res) === undefined } : {}),
    // The contract's GraphQL error shape; Retry-After is set by the limiter before this runs.
    handler: (_req, res) => {
      res.status(429).json({
        errors: [{ message: `too many requests: at most ${limit} a minute ${what}; retry after Retry-After seconds`, extensions: { code: "RATE_LIMITED" } }],
      });
    },
  });
}

/**
 * Rate limits of `/graphql`, in the order they must run: `perIp` first (before anything costs work:
 * requests without a valid token are limited by it alone), `perToken` after `authenticate`.
 * Counters live in this process's memory: with several instances each counts its own requests.
 */
export function graphqlRateLimits(limits: GraphQLRateLimits): { perIp: RequestHandler[]; perToken: RequestHandler[] } {
  return {
    perIp: limits.perIp > 0 ? [limiter(limits.perIp, "per client IP")] : [],
    perToken: limits.perToken > 0 ? [limiter(limits.perToken, "per token", tokenKey)] : [],
  };
}
