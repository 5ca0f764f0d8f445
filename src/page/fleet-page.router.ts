import path from "node:path";
import express, { type Router } from "express";
import helmet from "helmet";

/** The page's static files: plain HTML, one JavaScript module and one stylesheet, served as they are. */
export const PUBLIC_DIR = path.join(__dirname, "public");

/**
 * The service's CSP allows nothing; the page needs its own script and stylesheet, and to talk to the
 * API on the same origin (`connect-src 'self'` covers ws:/wss: to the same host in CSP Level 3
 * browsers). Still nothing inline, nothing from elsewhere, no framing.
 */
export const FLEET_PAGE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/**
 * GET /fleet: the live fleet page (see README, "The live fleet page"). It is one more client of the
 * public API: it reads through POST /graphql and listens through graphql-ws with the token a person
 * pastes, so it can show nothing that token could not fetch itself.
 */
export function fleetPageRouter(): Router {
  const router = express.Router();
  const csp = helmet.contentSecurityPolicy({ useDefaults: false, directives: FLEET_PAGE_CSP });
  // `/fleet` and `/fleet/` are the page; the files it references live under /fleet/.
  router.get(["/fleet", "/fleet/"], csp, (_req, res) => {
    res.sendFile("index.html", { root: PUBLIC_DIR, headers: { "Cache-Control": "no-cache" } });
  });
  // Scripts and stylesheets are no documents: the service's CSP (allow nothing) may stay on them.
  router.use(
    "/fleet",
    express.static(PUBLIC_DIR, { index: false, redirect: false, setHeaders: (res) => res.setHeader("Cache-Control", "no-cache") }),
  );
  return router;
}
