/* global process, fetch, AbortSignal */
/**
 * The container's HEALTHCHECK: exit 0 when GET /healthz on this instance answers 200 within 3 s.
 * Plain Node (node:20-slim has no curl); PORT as the service reads it.
 */
"use strict";

const port = (process.env.PORT || "").trim() || "4000";
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
  (response) => process.exit(response.status === 200 ? 0 : 1),
  () => process.exit(1),
);
