/**
 * What one test file, or one spec of a group (see test/helpers/specs.ts), leaves to clean up: apps to
 * stop, clients to close, its database to drop. Each gets its own scope, so no test sees another's
 * data, and everything it started ends with it, newest first.
 */
let cleanups: Array<() => Promise<void>> = [];
let current = 0;

/** A plain test file's scope ends with the file. */
afterAll(() => endScope());

/** Runs `cleanup` when the current scope ends: newest first, or after all others with `last`. */
export function atScopeEnd(cleanup: () => Promise<void>, options: { last?: boolean } = {}): void {
  if (options.last) cleanups.unshift(cleanup);
  else cleanups.push(cleanup);
}

/** Identifies the current scope, for what a helper creates once per scope. */
export function scopeId(): number {
  return current;
}

/** Starts a new scope (for the next spec of a group); the previous one must have ended. */
export function beginScope(): void {
  current += 1;
  cleanups = [];
}

export async function endScope(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.();
}
