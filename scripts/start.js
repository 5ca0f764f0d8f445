/* global require, process, setInterval, clearInterval */
/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * `npm start`: compile only when the sources changed since the last build (scripts/build.js), then run
 * the compiled service in this same process. Production images run `node dist/src/main.js` directly.
 *
 * Stopping: whoever stops `npm start` (Docker, systemd, a terminal) signals npm's process. npm passes
 * SIGTERM and SIGINT on to the script's process, which must therefore be this one: package.json runs
 * `exec node scripts/start.js`, as a plain `sh -c "node …"` (dash) would take the signal and die,
 * leaving the service running with no parent. When the process that started us goes away anyway
 * (npm killed outright, a SIGHUP npm does not pass on), the service stops as on SIGTERM rather than
 * stay behind on its port.
 */
"use strict";

const { ensureBuilt } = require("./build");

const PARENT_CHECK_MS = 500;

try {
  ensureBuilt(undefined, (message) => process.stderr.write(`fleetgraph: ${message}\n`));
} catch (error) {
  process.stderr.write(`fleetgraph: ${error.message}\n`);
  process.exit(1);
}
require("../dist/src/main.js");

// Node has no "tell me when my parent dies": an orphan is handed to another parent (init, or a subreaper).
const parent = process.ppid;
const parentCheck = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(parentCheck);
  process.stderr.write(`fleetgraph: the process that started it (${parent}) is gone: stopping\n`);
  process.kill(process.pid, "SIGTERM");
}, PARENT_CHECK_MS).unref();
