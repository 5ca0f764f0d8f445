/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * `npm start`: compile only when the sources changed since the last build (scripts/build.js), then run
 * the compiled service in this same process. Production images run `node dist/src/main.js` directly.
 */
"use strict";

const { ensureBuilt } = require("./build");

try {
  ensureBuilt(undefined, (message) => process.stderr.write(`fleetgraph: ${message}\n`));
} catch (error) {
  process.stderr.write(`fleetgraph: ${error.message}\n`);
  process.exit(1);
}
require("../dist/src/main.js");
