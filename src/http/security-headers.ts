import type { Request, RequestHandler, Response } from "express";
import helmet from "helmet";
import type { Middleware } from "./middleware";

/**
 * Every answer is JSON for programs, never a page: a CSP that allows nothing (no scripts, no
 * framing), no referrer, nosniff, HSTS (honoured once behind the TLS proxy), and helmet's other
 * defaults.
 */
const apiHelmet = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  frameguard: { action: "deny" },
  referrerPolicy: { policy: "no-referrer" },
});

/**
 * Apollo's landing page (`GET /graphql` from a browser) loads its scripts, styles and frames from
 * Apollo's CDN under a nonce-based CSP of its own, in a <meta> tag. A CSP header is enforced on top
 * of it, so this page alone gets none; every other header still applies.
 */
const landingPageHelmet = helmet({
  contentSecurityPolicy: false,
  referrerPolicy: { policy: "no-referrer" },
});

/** What a helmet middleware does to a response: headers set and removed, in order. */
type HeaderStep = readonly [name: string, value: string | undefined];

/**
 * Runs `middleware` once against a recording response. Helmet's headers depend on nothing in the
 * request with this configuration (no nonces, no functions of the request), so they are computed
 * once at start and replayed: helmet's dozen middlewares per request cost more than the headers.
 */
function recordHeaders(middleware: RequestHandler): HeaderStep[] {
  const steps: Array<[string, string | undefined]> = [];
  let done = false;
  const response = {
    setHeader: (name: string, value: unknown) => steps.push([name, String(value)]),
    removeHeader: (name: string) => steps.push([name, undefined]),
  };
  void middleware({ method: "GET", headers: {} } as Request, response as unknown as Response, (error?: unknown) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error("helmet did not finish synchronously: its headers cannot be replayed");
  return steps;
}

function replay(steps: readonly HeaderStep[]): Middleware {
  return (_req, res, next) => {
    for (const [name, value] of steps) {
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
    next();
  };
}

/** The headers of every answer but the landing page's (the webhook's own node:http route sets them too). */
export const apiSecurityHeaders = replay(recordHeaders(apiHelmet));
const landingPageHeaders = replay(recordHeaders(landingPageHelmet));

/** Apollo serves its landing page to a GET that prefers HTML over every GraphQL response type. */
function wantsLandingPage(req: Request): boolean {
  return (
    req.method === "GET" &&
    req.path === "/graphql" &&
    req.accepts(["application/json", "application/graphql-response+json", "multipart/mixed", "text/html"]) === "text/html"
  );
}

export function securityHeaders(): RequestHandler {
  return (req, res, next) => (wantsLandingPage(req) ? landingPageHeaders : apiSecurityHeaders)(req, res, next);
}
