import pino from "pino";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`fleetgraph: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  // Lines are gathered up to 4 kB (or 100 ms) per write to stdout: one write per request's line cost
  // about 5 % of a small query's time. pino flushes what is left when the process exits.
  const logger = createLogger(config.logLevel, pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 }));
  const app = createApp(config, { logger });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // A second signal or a stuck drain must not keep the process alive forever.
    setTimeout(() => process.exit(1), 20_000).unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  // A closed terminal: stop as gracefully as on the others (Node's default would end the process mid-request).
  process.on("SIGHUP", shutdown);

  try {
    await app.start();
  } catch (error) {
    logger.fatal({ err: error }, "fleetgraph failed to start");
    process.exit(1);
  }
}

void main();
