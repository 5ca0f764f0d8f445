import { badUserInput } from "./errors";

/**
 * Opaque, stable keyset cursors: base64url of `[kind, ...sortKey]`. The kind names the list and its
 * ordering, so a cursor from one list (or one `orderBy`) is refused by another instead of silently
 * paging from the wrong place. Sort keys hold the row's own values (timestamps as PostgreSQL text,
 * which keeps microseconds), so rows added or removed elsewhere never shift a page.
 */
export type CursorKey = readonly string[];

/**
 * What each part of a sort key holds, so a decoded key is checked before it reaches SQL (where a
 * forged part would fail its cast: an internal error instead of BAD_USER_INPUT).
 */
export type CursorPart = "text" | "timestamp" | "uuid" | "bigint" | "float-or-empty";

export function encodeCursor(kind: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify([kind, ...key]), "utf8").toString("base64url");
}

/** The sort key of a cursor of `kind` whose parts are `parts`; BAD_USER_INPUT for anything else. */
export function decodeCursor(cursor: string, kind: string, parts: readonly CursorPart[], argument = "after"): CursorKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw badUserInput(`\`${argument}\` is not a cursor from this list`, argument);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== parts.length + 1 ||
    parsed[0] !== kind ||
    !parsed.every((part): part is string => typeof part === "string") ||
    !parts.every((part, index) => isValidPart(part, parsed[index + 1]))
  ) {
    throw badUserInput(`\`${argument}\` is not a cursor from this list (or from another ordering)`, argument);
  }
  return parsed.slice(1);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT = /^\d{1,18}$/;
const FLOAT = /^-?\d{1,400}(\.\d{1,400})?(e[+-]?\d{1,3})?$/;
/** PostgreSQL's `timestamptz::text` (DateStyle ISO): `2026-01-01 10:00:00.123456+00`, offsets up to `+hh:mm:ss`. */
const PG_TIMESTAMPTZ = /^(\d{4,6})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::(\d{2})(?::(\d{2}))?)?( BC)?$/;

function isValidPart(part: CursorPart, value: string): boolean {
  switch (part) {
    case "text":
      return true;
    case "uuid":
      return UUID.test(value);
    case "bigint":
      return BIGINT.test(value);
    case "timestamp":
      return isPgTimestamp(value);
    case "float-or-empty":
      // A float8 as PostgreSQL prints it (`78`, `-0.25`, `1e+20`), or "" for a row without one.
      return value === "" || (FLOAT.test(value) && Number.isFinite(Number(value)));
  }
}

/**
 * PostgreSQL's timestamps start in 4714 BC (Julian day 0); older ones fail their cast. Whole years
 * keep the rule simple: 4713 BC is the oldest year a cursor may hold (the newest, 275760, is where
 * a JavaScript Date ends, well inside PostgreSQL's 294276).
 */
const OLDEST_BC_YEAR = 4713;

/** Also checks the calendar, which PostgreSQL would otherwise refuse with an error (e.g. February 30). */
function isPgTimestamp(value: string): boolean {
  const match = PG_TIMESTAMPTZ.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes, offsetSeconds] = match.slice(1, 10).map((part) => Number(part ?? 0));
  // Proleptic Gregorian, as PostgreSQL: 1 BC is year 0.
  const astronomical = match[10] ? 1 - year : year;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(astronomical) ? 1 : 0);
  return (
    year >= 1 && year <= (match[10] ? OLDEST_BC_YEAR : 275_760) && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth &&
    hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 15 && offsetMinutes <= 59 && offsetSeconds <= 59
  );
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
