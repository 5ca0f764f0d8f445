/* global module */
/**
 * Folders under src/ depend one way: toolkit <- features <- pipelines <- app (see README, Layout).
 * `npm run lint:deps` checks it; CI fails on any arrow pointing back.
 */
const TOOLKIT = "^src/(db|http|auth|graphql|changes|metrics)/";
const FEATURES = "^src/(vehicles|signals|issues)/";
const PIPELINES = "^src/(webhooks|subscriptions|api|page)/";
// The service (app.ts, main.ts) and the `fleetgraph` command compose the rest.
const APP = "^src/((app|main)\\.ts$|cli/)";

module.exports = {
  forbidden: [
    {
      name: "toolkit-is-generic",
      comment: "Toolkit folders serve every feature and know none of them.",
      severity: "error",
      from: { path: TOOLKIT },
      to: { path: [FEATURES, PIPELINES, APP] },
    },
    {
      name: "features-below-pipelines",
      comment: "Features own their data and GraphQL types; pipelines (ingestion, subscriptions, API assembly) use them.",
      severity: "error",
      from: { path: FEATURES },
      to: { path: [PIPELINES, APP] },
    },
    {
      name: "vehicles-know-no-other-feature",
      comment: "Signals and issues belong to vehicles, never the reverse.",
      severity: "error",
      from: { path: "^src/vehicles/" },
      to: { path: "^src/(signals|issues)/" },
    },
    {
      name: "signals-and-issues-apart",
      severity: "error",
      from: { path: "^src/(signals|issues)/" },
      to: { path: "^src/(signals|issues)/", pathNot: "^src/$1/" },
    },
    {
      name: "pipelines-apart",
      comment: "Each pipeline stands alone; app.ts composes them.",
      severity: "error",
      from: { path: PIPELINES },
      to: { path: PIPELINES, pathNot: "^src/$1/" },
    },
    {
      name: "only-the-app-composes",
      severity: "error",
      from: { path: "^src/", pathNot: APP },
      to: { path: APP },
    },
    {
      name: "no-circular",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
