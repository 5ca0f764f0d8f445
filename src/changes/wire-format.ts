import type { IssueState } from "./change";
import type { Change } from "./change";

/**
 * NOTIFY payloads: compact JSON arrays, ids and filter fields only, never a signal body.
 * PostgreSQL rejects payloads of 8000 bytes or more; we stay far below, splitting a large batch.
 *
 *   ["s", vehicleId, userId, code, readingId]              a signal value that became latest
 *   ["i", issueId, vehicleId, userId, state, changeId]     an issue change
 *   ["S", readingId] / ["I", changeId]                     the same, too long to inline (absurd ids):
 *                                                         the receiver reads the fields from the database
 *   {"flush": nonce}                                       a marker, see ChangeBus.flush
 */
export const MAX_PAYLOAD_BYTES = 4000;

export type WireChange =
  | readonly ["s", string, string | null, string, string]
  | readonly ["i", string, string | null, string | null, IssueState, string]
  | readonly ["S", string]
  | readonly ["I", string];

/** A reference the receiver must resolve from the database. */
export type ChangeRef = { readonly kind: "signal"; readonly readingId: string } | { readonly kind: "issue"; readonly changeId: string };

export type Decoded = { readonly kind: "changes"; readonly items: Array<Change | ChangeRef> } | { readonly kind: "flush"; readonly nonce: string };

function toWire(change: Change): WireChange {
  const wire: WireChange =
    change.kind === "signal"
      ? ["s", change.vehicleId, change.userId, change.code, change.readingId]
      : ["i", change.issueId, change.vehicleId, change.userId, change.state, change.changeId];
  if (Buffer.byteLength(JSON.stringify(wire)) + 2 <= MAX_PAYLOAD_BYTES) return wire;
  return change.kind === "signal" ? ["S", change.readingId] : ["I", change.changeId];
}

/** Splits changes into as few payloads as fit, keeping their order. */
export function encodeChanges(changes: readonly Change[]): string[] {
  const payloads: string[] = [];
  let current: string[] = [];
  let size = 2; // the enclosing []
  for (const change of changes) {
    const item = JSON.stringify(toWire(change));
    const itemSize = Buffer.byteLength(item) + 1; // and its comma
    if (current.length > 0 && size + itemSize > MAX_PAYLOAD_BYTES) {
      payloads.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(item);
    size += itemSize;
  }
  if (current.length > 0) payloads.push(`[${current.join(",")}]`);
  return payloads;
}

export function encodeFlush(nonce: string): string {
  return JSON.stringify({ flush: nonce });
}

const isText = (value: unknown): value is string => typeof value === "string";
const isTextOrNull = (value: unknown): value is string | null => value === null || typeof value === "string";
const isState = (value: unknown): value is IssueState => value === "OPEN" || value === "RESOLVED";

function fromWire(item: unknown): Change | ChangeRef | undefined {
  if (!Array.isArray(item)) return undefined;
  const [tag, ...rest] = item as unknown[];
  if (tag === "s" && rest.length === 4 && isText(rest[0]) && isTextOrNull(rest[1]) && isText(rest[2]) && isText(rest[3])) {
    return { kind: "signal", vehicleId: rest[0], userId: rest[1], code: rest[2], readingId: rest[3] };
  }
  if (
    tag === "i" && rest.length === 5 && isText(rest[0]) && isTextOrNull(rest[1]) && isTextOrNull(rest[2]) && isState(rest[3]) &&
    isText(rest[4])
  ) {
    return { kind: "issue", issueId: rest[0], vehicleId: rest[1], userId: rest[2], state: rest[3], changeId: rest[4] };
  }
  if (tag === "S" && rest.length === 1 && isText(rest[0])) return { kind: "signal", readingId: rest[0] };
  if (tag === "I" && rest.length === 1 && isText(rest[0])) return { kind: "issue", changeId: rest[0] };
  return undefined;
}

/** Parses a payload; undefined for anything we did not write (another program may NOTIFY on the channel). */
export function decodePayload(payload: string | undefined): Decoded | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload ?? "");
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed)) {
    const items = parsed.map(fromWire);
    return items.every((item) => item !== undefined) ? { kind: "changes", items: items as Array<Change | ChangeRef> } : undefined;
  }
  const nonce = (parsed as { flush?: unknown } | null)?.flush;
  return isText(nonce) ? { kind: "flush", nonce } : undefined;
}

export function isRef(item: Change | ChangeRef): item is ChangeRef {
  return !("vehicleId" in item);
}
