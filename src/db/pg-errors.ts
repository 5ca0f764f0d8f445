/** SQLSTATE classes that mean "the database is not there right now", not "your request is wrong". */
const UNAVAILABLE_SQLSTATE = [
  "08", // connection exception
  "53", // insufficient resources
  "57P", // operator intervention: admin shutdown, crash shutdown, cannot connect now
  "57014", // query canceled: our statement_timeout (the database is too slow right now)
  "55P03", // lock not available: our lock_timeout
  "40001", // serialization failure, still failing after our retries
  "40P01", // deadlock, still failing after our retries
];
const UNAVAILABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"]);
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Query read timeout/i, // our client-side query_timeout: no answer in time (a silent partition)
  /Connection is not established/i,
  /Client has encountered a connection error/i,
  /Cannot use a pool after calling end/i,
  /DataSource is not initialized/i,
  /Driver not Connected/i,
];

/** True when an error means the database is unreachable or refusing work: answer 503 so clients retry. */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Not `instanceof Error`: errors from Node's own sockets may come from another realm (as under jest).
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string") {
    if (UNAVAILABLE_NODE_CODES.has(code)) return true;
    if (UNAVAILABLE_SQLSTATE.some((prefix) => code.startsWith(prefix))) return true;
  }
  if (typeof message === "string" && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  const cause = (error as { cause?: unknown; driverError?: unknown }).driverError ?? (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isDatabaseUnavailable(cause);
}

/** Serialisation failure or deadlock: the transaction may simply be retried. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } } | undefined)?.code ??
    (error as { driverError?: { code?: unknown } } | undefined)?.driverError?.code;
  return code === "40001" || code === "40P01";
}

/** A lock not granted within our lock_timeout: the work may be tried again later. */
export function isLockNotAvailable(error: unknown): boolean {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } } | undefined)?.code ??
    (error as { driverError?: { code?: unknown } } | undefined)?.driverError?.code;
  return code === "55P03";
}

/** A statement PostgreSQL cancelled at its session's `statement_timeout` (not an operator's cancel, nor a lost connection). */
export function isStatementTimeout(error: unknown): boolean {
  const { code, message } = ((error as { driverError?: unknown } | undefined)?.driverError ?? error ?? {}) as { code?: unknown; message?: unknown };
  return code === "57014" && typeof message === "string" && /statement timeout/i.test(message);
}
