import type { Request, RequestHandler } from "express";
import helmet from "helmet";

/**
 * Every answer is JSON for programs, never a page: a CSP that allows nothing (no scripts, no
 * framing), no referrer, nosniff, HSTS (honoured once behind the TLS proxy), and helmet's other
 * defaults.
 */
export const apiSecurityHeaders = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  frameguard: { action: "deny" },
  referrerPolicy: { policy: "no-referrer" },
});

/**
 * Apollo's landing page (`GET /graphql` from a browser) loads its scripts, styles and frames from
 * Apollo's CDN under a nonce-based CSP of its own, in a <meta> tag. A CSP header is enforced on top
 * of it, so this page alone gets none; every other header still applies.
 */
const landingPageHeaders = helmet({
  contentSecurityPolicy: false,
  referrerPolicy: { policy: "no-referrer" },
});

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
