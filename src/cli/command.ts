import { parseArgs, type ParseArgsConfig } from "node:util";

/** One `fleetgraph` subcommand: its help text and what it does. Returns the exit code. */
export interface Command {
  readonly name: string;
  /** One line for `fleetgraph --help`. */
  readonly summary: string;
  /** The full text of `fleetgraph <name> --help`. */
  readonly help: string;
  run(argv: readonly string[], io: CommandIO): Promise<number>;
}

/** Where a command writes and what it reads: the process's in production, tests may pass their own env. */
export interface CommandIO {
  readonly env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
}

/** A mistake in how the command was called: reported with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A missing or bad environment variable (named, never its value): exit code 78, like the service. */
export class SetupError extends Error {
  override name = "SetupError";
}

export const EXIT_USAGE = 2;
export const EXIT_CONFIG = 78;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `node:util` parseArgs with `--help`, strict options and no positionals; mistakes become UsageErrors. */
export function parseOptions<T extends Options>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options: { ...options, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false })
      .values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** An integer option within [min, max], or the fallback when it was not given. */
export function integerOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** A positive number option (decimals allowed) up to max, or the fallback. */
export function numberOption(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`--${name} must be a number above 0 and at most ${max}`);
  }
  return value;
}

/** An http(s) base URL without a trailing slash. */
export function baseUrlOption(raw: string | undefined, fallback: string): string {
  const text = raw ?? fallback;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url must be an http:// or https:// URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--url must be an http:// or https:// URL, got ${JSON.stringify(text)}`);
  }
  return url.toString().replace(/\/+$/, "");
}

/** The service's own default address, so `fleetgraph simulate` talks to a local `npm start` as is. */
export function defaultBaseUrl(env: Record<string, string | undefined>): string {
  return `http://localhost:${env.PORT?.trim() || "4000"}`;
}
