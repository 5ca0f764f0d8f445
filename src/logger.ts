import pino, { type Logger } from "pino";

export type { Logger };

/** Anything that may carry a credential is censored wherever it appears in a log record. */
const REDACT = [
  "authorization",
  "*.authorization",
  "*.Authorization",
  "headers.authorization",
  "headers['sc-signature']",
  "*.headers.authorization",
  "*.headers['sc-signature']",
  "token",
  "*.token",
  "password",
  "*.password",
  "secret",
  "*.secret",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: "[redacted]" } }, destination);
}

/** Logs a database URL without its password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
