/** Types of scripts/build.js (plain JavaScript: it runs before anything is compiled). */
export type BuildState = "current" | "deployed" | "missing" | "stale";
export function buildState(root?: string): BuildState;
export function build(root?: string): void;
export function ensureBuilt(root?: string, log?: (message: string) => void, options?: { requireCompiler?: boolean }): BuildState | "built";
export function sourceFingerprint(root: string): string;
export function sourceFiles(root: string): string[];
