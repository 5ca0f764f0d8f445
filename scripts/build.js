/* global require, module, process, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * Compiles the TypeScript sources into dist/ and tells whether dist/ is current, so `npm start` runs
 * compiled JavaScript at once and compiles only when the sources changed (see README, "Start fast").
 *
 * Plain JavaScript on purpose: it runs before anything is compiled, and in a production install that
 * has no TypeScript at all.
 *
 *   node scripts/build.js             compile (always; what `npm run build` runs)
 *   node scripts/build.js --if-stale  compile only when dist/ does not match the sources
 *   node scripts/build.js --prepare   the same, at `npm install`/`npm ci`; skipped without TypeScript
 *                                     (a production install, `--omit=dev`), which then needs a built dist/
 *
 * "Current" means dist/.source-fingerprint holds the hash of every compiled input: the .ts files that
 * tsconfig.build.json includes, the static files in `public/` folders under src/ (the fleet page's HTML,
 * JavaScript and CSS, copied into dist/ as they are), both tsconfig files and the TypeScript version. A content hash, not
 * file times: a checkout, a copy or a clock change cannot fool it. A rebuild starts from an empty
 * dist/, so the output of a deleted source (a removed migration) never lingers.
 */
"use strict";

const { createHash } = require("node:crypto");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
/** Folders and files tsconfig.build.json compiles (its "include"), and the configuration itself. */
const SOURCE_FOLDERS = ["src", "scripts", "migrations"];
const SOURCE_FILES = ["ormconfig.ts", "tsconfig.json", "tsconfig.build.json"];
const ENTRY = path.join("dist", "src", "main.js");
const FINGERPRINT = path.join("dist", ".source-fingerprint");

/** A static file served as it is (in a `public/` folder under src/, like the fleet page's): the build copies it. */
function isAsset(relative) {
  return /^src\/(.+\/)?public\//.test(relative);
}

/** Relative paths of every compiled input that exists, sorted, with "/" separators. */
function sourceFiles(root) {
  const files = [];
  const walk = (folder) => {
    for (const entry of fs.readdirSync(path.join(root, folder), { withFileTypes: true })) {
      const relative = `${folder}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith(".ts") || isAsset(relative)) files.push(relative);
    }
  };
  for (const folder of SOURCE_FOLDERS) if (fs.existsSync(path.join(root, folder))) walk(folder);
  for (const file of SOURCE_FILES) if (fs.existsSync(path.join(root, file))) files.push(file);
  return files.sort();
}

function typescriptPackage(root) {
  try {
    return require.resolve("typescript/package.json", { paths: [root] });
  } catch {
    return undefined;
  }
}

/** Hash of the compiled inputs: their paths and contents, and the compiler's version. */
function sourceFingerprint(root) {
  const hash = createHash("sha256");
  const compiler = typescriptPackage(root);
  hash.update(`typescript ${compiler ? JSON.parse(fs.readFileSync(compiler, "utf8")).version : "none"}\0`);
  for (const file of sourceFiles(root)) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/**
 * - "current": dist/ was built from exactly these sources;
 * - "deployed": there are no sources (a runtime image or a copied build): dist/ is all there is;
 * - "missing" / "stale": dist/ needs a build.
 */
function buildState(root = ROOT) {
  if (!fs.existsSync(path.join(root, "src"))) return fs.existsSync(path.join(root, ENTRY)) ? "deployed" : "missing";
  if (!fs.existsSync(path.join(root, ENTRY))) return "missing";
  let recorded;
  try {
    recorded = fs.readFileSync(path.join(root, FINGERPRINT), "utf8").trim();
  } catch {
    return "stale";
  }
  return recorded === sourceFingerprint(root) ? "current" : "stale";
}

/** Compiles from an empty dist/ and records what it was built from. Throws when tsc fails. */
function build(root = ROOT) {
  const compiler = typescriptPackage(root);
  if (!compiler) throw new Error("TypeScript is not installed (a production install?): run `npm ci` with dev dependencies to build");
  // Taken before compiling: a source edited during the build makes the next start build again.
  const fingerprint = sourceFingerprint(root);
  fs.rmSync(path.join(root, "dist"), { recursive: true, force: true });
  const tsc = path.join(path.dirname(compiler), "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) throw new Error(`tsc failed (exit ${result.status ?? result.signal})`);
  for (const file of sourceFiles(root).filter(isAsset)) {
    fs.mkdirSync(path.dirname(path.join(root, "dist", file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(root, "dist", file));
  }
  fs.writeFileSync(path.join(root, FINGERPRINT), `${fingerprint}\n`);
}

/**
 * Builds unless dist/ is current or deployed; `log` hears why and how long it took. Processes that
 * start together (two `npm start`s, two test files) build once: the others wait for the first.
 */
function ensureBuilt(root = ROOT, log = () => {}, { requireCompiler = true } = {}) {
  const state = buildState(root);
  if (state === "current" || state === "deployed") return state;
  if (!typescriptPackage(root)) {
    if (!requireCompiler) return state;
    throw new Error(
      `dist/ is ${state === "missing" ? "missing" : "older than the sources"} and TypeScript is not installed to build it: ` +
        "run `npm ci` (with dev dependencies), or deploy a built dist/ (see the Dockerfile)",
    );
  }
  return withBuildLock(root, () => {
    const now = buildState(root); // someone else may have built it while we waited
    if (now === "current") return now;
    log(`compiling TypeScript: dist/ is ${now === "missing" ? "missing" : "older than the sources"}`);
    const started = Date.now();
    build(root);
    log(`compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return "built";
  });
}

function withBuildLock(root, work) {
  const lock = path.join(os.tmpdir(), `fleetgraph-build-${createHash("sha256").update(path.resolve(root)).digest("hex").slice(0, 12)}.lock`);
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      // A lock older than any build is left over from a killed process.
      const age = Date.now() - fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (age > 5 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another build holds ${lock}`, { cause: error });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return work();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

module.exports = { buildState, build, ensureBuilt, sourceFingerprint, sourceFiles };

if (require.main === module) {
  const log = (message) => process.stderr.write(`fleetgraph: ${message}\n`);
  const mode = process.argv[2];
  try {
    if (mode === "--if-stale") ensureBuilt(ROOT, log);
    else if (mode === "--prepare") {
      const state = ensureBuilt(ROOT, log, { requireCompiler: false });
      if (state === "missing" || state === "stale") log("TypeScript is not installed (production install): not building dist/");
    } else if (mode === undefined) build(ROOT);
    else throw new Error(`unknown option ${mode}; use --if-stale or --prepare`);
  } catch (error) {
    log(error.message);
    process.exit(1);
  }
}
