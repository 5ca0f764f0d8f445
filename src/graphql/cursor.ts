import { badUserInput } from "./errors";

/**
 * Opaque, stable keyset cursors: base64url of `[kind, ...sortKey]`. The kind names the list and its
 * ordering, so a cursor from one list (or one `orderBy`) is refused by another instead of silently
 * paging from the wrong place. Sort keys hold the row's own values (timestamps as PostgreSQL text,
 * which keeps microseconds), so rows added or removed elsewhere never shift a page.
 */
export type CursorKey = readonly string[];

export function encodeCursor(kind: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify([kind, ...key]), "utf8").toString("base64url");
}

/** The sort key of a cursor of `kind`; BAD_USER_INPUT for anything else. */
export function decodeCursor(cursor: string, kind: string, keyLength: number, argument = "after"): CursorKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw badUserInput(`\`${argument}\` is not a cursor from this list`, argument);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== keyLength + 1 ||
    parsed[0] !== kind ||
    !parsed.every((part): part is string => typeof part === "string")
  ) {
    throw badUserInput(`\`${argument}\` is not a cursor from this list (or from another ordering)`, argument);
  }
  return parsed.slice(1);
}
