import fs from "node:fs";
import path from "node:path";
import { beginScope, endScope } from "./scope";
// Registers its file-level cleanup (the file's database copy) at the top of the file, not inside the first spec.
import "./test-database";

/**
 * Runs every `*.spec.ts` of `folder` in this one test file, each in a describe block named after it,
 * with its own scope (its own database, apps and clients; see ./scope).
 *
 * Why groups: jest evaluates every module anew for each test file, and loading the service with its
 * libraries costs about a second, more than most integration files' tests take. A folder of specs
 * pays it once. Run one spec with `npm test -- <group>.test.ts -t <spec>`.
 */
export function runSpecs(folder: string): void {
  const specs = fs.readdirSync(folder).filter((name) => name.endsWith(".spec.ts")).sort();
  if (specs.length === 0) throw new Error(`no *.spec.ts in ${folder}`);
  for (const spec of specs) {
    describe(spec.replace(/\.spec\.ts$/, ""), () => {
      beforeAll(beginScope);
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a spec registers its tests as it loads, inside this block
      require(path.join(folder, spec));
      // Declared after the spec's own hooks, so it runs after its afterAll (jest runs them in declaration order).
      afterAll(endScope);
    });
  }
}
