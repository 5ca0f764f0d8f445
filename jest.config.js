/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  globalSetup: "<rootDir>/test/global-setup.ts",
  globalTeardown: "<rootDir>/test/global-teardown.ts",
  setupFilesAfterEnv: ["<rootDir>/test/helpers/jest.setup.ts"],
  // Integration files each start their own database and server; two at a time suits a 2-core machine.
  maxWorkers: 2,
  testTimeout: 60000,
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
};
