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
  "headers.cookie",
  "*.headers.cookie",
  "*.headers['set-cookie']",
  "token",
  "*.token",
  "password",
  "*.password",
  "secret",
  "*.secret",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: "[redacted]" }, serializers: { err: serializeError, error: serializeError } },
    destination,
  );
}

/**
 * A logger for lines whose every field name and value is built by our code from values that cannot
 * hold a credential (a request's line, a delivery's outcome): redaction would find nothing there to
 * censor, and costs about 10 µs a line on this stack (@pinojs/redact clones the record for its wildcard
 * paths), more than the rest of the line. Never hand it objects from elsewhere: errors, headers, bodies.
 */
export function fixedFieldsLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [] } });
}

/** Longest message (or other text field) of a logged error; PostgreSQL's can quote an input value. */
const MAX_MESSAGE = 500;
const MAX_NAME = 200;
const MAX_STACK_FRAMES = 12;
/** Causes followed, so a cycle or a long chain cannot grow a line without bound. */
const MAX_CAUSES = 3;
/**
 * What PostgreSQL (pg's DatabaseError) says about where a statement failed: names, never values. Left
 * out on purpose: `detail` and `where` (they quote rows and JSON input), `hint`, `position`, and
 * TypeORM's `query` and `parameters` (every SQL parameter: raw bodies, user ids, locations).
 */
const DATABASE_NAMES = ["severity", "schema", "table", "column", "constraint", "dataType", "routine"] as const;

/**
 * pino's serializer for `err`: a bounded record of the fields that are safe and useful (type,
 * message, code, SQLSTATE and the names of the table and constraint involved, stack frames, causes).
 * pino's standard one copies every enumerable property: a failed INSERT put megabytes of raw
 * deliveries into one line.
 */
export function serializeError(error: unknown, causes = 0): Record<string, unknown> {
  if (typeof error !== "object" || error === null) return { type: typeof error, message: cut(String(error), MAX_MESSAGE) };
  const source = error as Record<string, unknown> & { driverError?: Record<string, unknown> };
  // TypeORM's QueryFailedError wraps pg's error: the names live on the driver's error.
  const driver = typeof source.driverError === "object" && source.driverError !== null ? source.driverError : {};
  const record: Record<string, unknown> = {
    type: cut(typeof source.name === "string" ? source.name : (error.constructor?.name ?? "Object"), MAX_NAME),
    message: cut(typeof source.message === "string" ? source.message : "", MAX_MESSAGE),
  };
  const code = source.code ?? driver.code;
  if (typeof code === "string" || typeof code === "number") record.code = cut(String(code), MAX_NAME);
  for (const key of DATABASE_NAMES) {
    const value = source[key] ?? driver[key];
    if (typeof value === "string") record[key] = cut(value, MAX_NAME);
  }
  const status = source.status ?? source.statusCode;
  if (typeof status === "number") record.status = status;
  if (typeof source.stack === "string") record.stack = framesOf(source.stack);
  if (source.cause !== undefined && source.cause !== error) {
    record.cause = causes < MAX_CAUSES ? serializeError(source.cause, causes + 1) : "(further causes left out)";
  }
  return record;
}

/** The stack's `at …` lines only: its first line repeats the (unbounded) message. */
function framesOf(stack: string): string {
  return stack
    .split("\n")
    .filter((line) => line.trimStart().startsWith("at "))
    .slice(0, MAX_STACK_FRAMES)
    .map((line) => cut(line.trim(), MAX_NAME))
    .join("\n");
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Query parameters of a connection string that hold a secret (`password`, `sslpassword`, keys, tokens). */
const SECRET_PARAMETER = /pass|secret|token|key/i;

/** Logs a database URL without its password, in the userinfo or in any password-like parameter. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    for (const name of [...parsed.searchParams.keys()]) {
      if (SECRET_PARAMETER.test(name)) parsed.searchParams.set(name, "***");
    }
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
