import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildState, ensureBuilt, sourceFingerprint } from "../../scripts/build";

/**
 * `npm start` compiles only when the sources changed: scripts/build.js decides from a fingerprint of
 * the compiled inputs. These cases run on a small project in a temporary folder (no compiler runs).
 */
describe("build freshness (npm start)", () => {
  let root: string;
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  /** What a successful build leaves: the entry point and the fingerprint of its sources. */
  const markBuilt = () => {
    write("dist/src/main.js", "");
    write("dist/.source-fingerprint", `${sourceFingerprint(root)}\n`);
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "fleetgraph-build-"));
    write("src/main.ts", "export const a = 1;\n");
    write("migrations/1-Init.ts", "export class Init {}\n");
    write("tsconfig.json", "{}");
    write("tsconfig.build.json", "{}");
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("needs a build when dist/ is missing, and not once built from these sources", () => {
    expect(buildState(root)).toBe("missing");
    markBuilt();
    expect(buildState(root)).toBe("current");
  });

  it.each([
    ["a source is edited", () => write("src/main.ts", "export const a = 2;\n")],
    ["a source is added", () => write("src/other.ts", "")],
    ["a source is deleted", () => fs.rmSync(path.join(root, "migrations/1-Init.ts"))],
    ["a source is renamed", () => fs.renameSync(path.join(root, "src/main.ts"), path.join(root, "src/app.ts"))],
    ["the compiler settings change", () => write("tsconfig.build.json", '{"compilerOptions":{}}')],
    ["a static file the build copies changes", () => write("src/page/public/fleet.js", "// new")],
  ])("is stale when %s", (_case, change) => {
    markBuilt();
    change();
    expect(buildState(root)).toBe("stale");
  });

  it("ignores file times and files that are not compiled", () => {
    markBuilt();
    const later = new Date(Date.now() + 3600_000);
    fs.utimesSync(path.join(root, "src/main.ts"), later, later);
    write("README.md", "docs");
    write("src/notes.txt", "not TypeScript");
    expect(buildState(root)).toBe("current");
  });

  it("is stale when the fingerprint is missing (a build interrupted, or made by plain tsc)", () => {
    markBuilt();
    fs.rmSync(path.join(root, "dist/.source-fingerprint"));
    expect(buildState(root)).toBe("stale");
  });

  it("runs a deployed dist/ without sources as it is, and says when there is nothing to run", () => {
    markBuilt();
    fs.rmSync(path.join(root, "src"), { recursive: true });
    expect(buildState(root)).toBe("deployed");
    expect(ensureBuilt(root)).toBe("deployed");
    fs.rmSync(path.join(root, "dist"), { recursive: true });
    expect(buildState(root)).toBe("missing");
  });

  it("refuses to run stale code where no compiler is installed (a production install), unless only preparing", () => {
    markBuilt();
    write("src/main.ts", "export const a = 3;\n");
    // The temporary project has no node_modules: TypeScript cannot be found from it.
    expect(() => ensureBuilt(root)).toThrow(/dist\/ is older than the sources and TypeScript is not installed/);
    expect(ensureBuilt(root, () => {}, { requireCompiler: false })).toBe("stale");
  });
});
