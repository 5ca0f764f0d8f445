import type { IncomingMessage } from "node:http";
import { ipKeyGenerator, MemoryStore, rateLimit } from "express-rate-limit";
import type { GraphQLError } from "graphql";
import type { Viewer } from "../auth/viewer";
import { ErrorCode } from "../error-codes";
import { AppError } from "../errors";
import { graphqlErrorBody, graphqlErrorOf } from "../graphql/errors";
import { sendJson } from "../http/fast-path";
import type { Middleware } from "../http/middleware";
import { verifiedViewerOf } from "./authenticate";
import { BusyGate } from "./busy-gate";
import { FairShare } from "./fair-share";

/** Limits of each caller of `/graphql`, over HTTP and WebSocket alike; 0 turns a limit off. */
export interface GraphQLRateLimits {
  /** Operations per minute per verified token: its `sub` (a user), or the admin's subject. */
  readonly perToken: number;
  /** Operations per minute per client IP (the socket's peer address); every request counts, with or without a valid token. */
  readonly perIp: number;
  /** Operations of one token running at once (more wait their turn, a few, then are refused). */
  readonly concurrentPerToken: number;
  /** Operations of every caller running at once while the process has time to spare (fewer while it is busy: BusyGate); 0: no bound. */
  readonly concurrent: number;
}

const WINDOW_MS = 60_000;

/** The per-token key: only a verified token has one, so a forged `sub` can never spend another user's budget. */
function tokenKeyOf(viewer: Viewer | undefined): string | undefined {
  if (viewer?.kind === "user") return `user:${viewer.userId}`;
  if (viewer?.kind === "admin") return `admin:${viewer.subject ?? ""}`;
  return undefined;
}

/** The peer's address, as express's `req.ip` gives it without `trust proxy` (IPv6 grouped by /56, as the library does). */
function ipKeyOf(remoteAddress: string | undefined): string {
  return ipKeyGenerator(remoteAddress ?? "");
}

function limitedMessage(limit: number, what: string): string {
  return `too many requests: at most ${limit} a minute ${what}; retry after Retry-After seconds`;
}

/** One per-minute limit, with its counters in a store both transports count in. */
function limiter(limit: number, what: string, keyOf: (req: IncomingMessage) => string | undefined): { middleware: Middleware; store: MemoryStore } {
  const store = new MemoryStore();
  const middleware = rateLimit({
    windowMs: WINDOW_MS,
    limit,
    store,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    keyGenerator: (req) => keyOf(req) ?? "",
    skip: (req) => keyOf(req) === undefined,
    // The contract's GraphQL error shape; Retry-After is set by the limiter before this runs.
    handler: (_req, res) => sendJson(res, 429, graphqlErrorBody({ code: ErrorCode.RATE_LIMITED, message: limitedMessage(limit, what) })),
  });
  // With our own key and answer the limiter reads only headers and the socket and sets headers: it runs on
  // node:http's request and response as well as express's (the GraphQL fast path has no express objects).
  return { middleware: middleware as unknown as Middleware, store };
}

export interface CallerLimits {
  /** HTTP: `perIp` first (before anything costs work), `perToken` after `authenticate`, `concurrency` last, once the body is read. */
  readonly perIp: Middleware[];
  readonly perToken: Middleware[];
  readonly concurrency: Middleware[];
  /** Counts an operation sent over WebSocket (by `viewer`, from `remoteAddress`) against the same per-minute budgets: the error to answer with when over. */
  spend(viewer: Viewer, remoteAddress: string | undefined): Promise<GraphQLError | undefined>;
  /** Waits for one of the caller's turns (as over HTTP): the release to call when the operation ends, or the error to answer with. */
  enter(viewer: Viewer): Promise<(() => void) | GraphQLError>;
  /** Operations allowed to run at once now (fewer while the process is busy), running and waiting: for the metrics. */
  admission(): { limit: number; pauseMs: number; running: number; waiting: number } | undefined;
  stop(): void;
}

/**
 * The limits of `/graphql` per caller. One set of counters serves both transports: a query over
 * WebSocket spends the budget an HTTP request would, and waits for the same turns, so opening a socket
 * is no way around them. Counters live in this process's memory: with several instances each counts its
 * own operations.
 */
export function callerLimits(limits: GraphQLRateLimits): CallerLimits {
  const perIp = limits.perIp > 0 ? limiter(limits.perIp, "per client IP", (req) => ipKeyOf(req.socket.remoteAddress)) : undefined;
  const perToken = limits.perToken > 0 ? limiter(limits.perToken, "per token", (req) => tokenKeyOf(verifiedViewerOf(req))) : undefined;
  const share = limits.concurrentPerToken > 0 ? new FairShare(limits.concurrentPerToken) : undefined;
  const gate = limits.concurrent > 0 ? new BusyGate({ max: limits.concurrent }) : undefined;
  /** The caller's turn (`key`'s), then one of the process's: the function that ends both, or null when the caller has too many waiting. */
  const enterBoth = async (key: string | undefined): Promise<(() => void) | null> => {
    const turn = key === undefined ? undefined : share?.enter(key);
    if (turn === null) return null;
    const endTurn = (await turn) ?? (() => {});
    const endAdmission = (await gate?.enter()) ?? (() => {});
    return () => {
      endAdmission();
      endTurn();
    };
  };
  const tooMany = () =>
    `too many operations at once: at most ${limits.concurrentPerToken} of one token run together and eight times as many wait; retry in a moment`;

  const concurrency: Middleware = async (req, res, next) => {
    const release = await enterBoth(tokenKeyOf(verifiedViewerOf(req)));
    if (release === null) {
      res.setHeader("Retry-After", "1");
      sendJson(res, 429, graphqlErrorBody({ code: ErrorCode.RATE_LIMITED, message: tooMany() }));
      return;
    }
    res.once("close", release);
    // A client that went away while it waited frees its turn at once.
    if (res.destroyed) return release();
    next();
  };

  // MemoryStore answers every increment with the same counter object, so increments awaited together
  // would all read the last count: each is read before the next one starts.
  let counted: Promise<unknown> = Promise.resolve();
  const over = async (limit: { store: MemoryStore } | undefined, key: string | undefined, count: number, what: string) => {
    if (!limit || key === undefined) return undefined;
    const hits = counted.then(() => limit.store.increment(key)).then(({ totalHits }) => totalHits);
    counted = hits.catch(() => undefined);
    return (await hits) > count ? graphqlErrorOf(new AppError(429, ErrorCode.RATE_LIMITED, limitedMessage(count, what))) : undefined;
  };

  return {
    perIp: perIp ? [perIp.middleware] : [],
    perToken: perToken ? [perToken.middleware] : [],
    concurrency: share || gate ? [concurrency] : [],
    async spend(viewer, remoteAddress) {
      return (
        (await over(perIp, ipKeyOf(remoteAddress), limits.perIp, "per client IP")) ??
        (await over(perToken, tokenKeyOf(viewer), limits.perToken, "per token"))
      );
    },
    async enter(viewer) {
      return (await enterBoth(tokenKeyOf(viewer))) ?? graphqlErrorOf(new AppError(429, ErrorCode.RATE_LIMITED, tooMany()));
    },
    admission: () => gate?.state,
    stop: () => gate?.stop(),
  };
}
