/* global require, process, global, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * The service under bench/subscriptions.ts, as deployed: the compiled JavaScript in dist/ (no ts-node and
 * TypeScript compiler in its memory), in a child process that reports its URL and, when asked over IPC,
 * its memory after a forced GC (`--expose-gc`); HEAP_SNAPSHOT=<dir> also writes a heap snapshot each time.
 */
"use strict";

const path = require("node:path");
const { writeHeapSnapshot } = require("node:v8");
const dist = path.join(__dirname, "..", "dist", "src");
require("reflect-metadata");
const { createApp } = require(path.join(dist, "app.js"));
const { loadConfig } = require(path.join(dist, "config.js"));

async function serve() {
  const app = createApp(loadConfig());
  await app.start();
  process.send({ url: app.url });
  process.once("disconnect", () => process.exit(0)); // the bench is gone: don't linger
  let snapshots = 0;
  process.on("message", async (message) => {
    if (message === "memory") {
      // Twice: the first run may leave finalizable objects for the second.
      global.gc();
      global.gc();
      const memory = process.memoryUsage();
      if (process.env.HEAP_SNAPSHOT) writeHeapSnapshot(path.join(process.env.HEAP_SNAPSHOT, `${snapshots++ === 0 ? "before" : "after"}.heapsnapshot`));
      process.send({ memory });
    } else if (message === "stop") {
      await app.stop();
      process.exit(0);
    }
  });
}

serve().catch((error) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
