/**
 * Two sets of tests. `npm test` runs the fast ones (unit, and integration through the real HTTP server,
 * PostgreSQL and graphql-ws): what a developer runs all day. `npm run test:system` (jest.system.config.js)
 * runs the system tests: real service processes (SIGKILL, SIGTERM, restarts), outages and partitions
 * that must wait out their timeouts, the production install, the command line and the browser. CI runs both.
 */
/** @type {import('jest').Config} */
module.exports = {
  // The node environment, with embedded test databases started once-compiled (see the file).
  testEnvironment: "<rootDir>/test/helpers/environment.ts",
  testMatch: ["**/*.test.ts"],
  setupFilesAfterEnv: ["<rootDir>/test/helpers/jest.setup.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", {
      jsc: {
        parser: { syntax: "typescript", decorators: true },
        // legacy decorators + design:type metadata, as tsc's experimentalDecorators/emitDecoratorMetadata
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: "es2022",
      },
      module: { type: "commonjs" },
      sourceMaps: "inline",
    }],
  },
  roots: ["<rootDir>/test/unit", "<rootDir>/test/integration"],
  globalSetup: "<rootDir>/test/global-setup.ts",
  globalTeardown: "<rootDir>/test/global-teardown.ts",
  // Integration files each start their own database and server. On the embedded database a worker is
  // busy (PGlite runs in it): two suit a 2-core machine. With a PostgreSQL server, workers also wait on
  // it and on timers: a third runs while they do.
  maxWorkers: process.env.DATABASE_URL ? 3 : 2,
  testTimeout: 60000,
};
