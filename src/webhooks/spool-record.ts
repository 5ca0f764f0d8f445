import { crc32 } from "node:zlib";

/**
 * The spool file is a sequence of records, each
 *
 *     "FGS1" | payload length (u32 BE) | CRC-32 of the payload (u32 BE) | payload
 *
 * and a payload is `meta length (u32 BE) | meta (JSON) | raw body`. The length frames a record, the
 * checksum proves it was written whole, and the marker lets a reader find the next record after a
 * damaged one: a crash mid-append leaves at most a torn tail, and any damage costs only the bytes
 * it covers, never the records around it.
 */
export const RECORD_MARKER = Buffer.from("FGS1", "latin1");
export const HEADER_BYTES = 12;
/** Far above any accepted body (WEBHOOK_BODY_LIMIT is at most 50 MiB): a larger length is damage. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** A verified delivery as it arrived: re-normalised from its exact bytes when drained. */
export interface SpooledDelivery {
  readonly receivedAt: Date;
  readonly rawBody: Buffer;
}

interface Meta {
  kind: "delivery";
  receivedAt: string;
}

export function encodeRecord(entry: SpooledDelivery): Buffer {
  const meta = Buffer.from(JSON.stringify({ kind: "delivery", receivedAt: entry.receivedAt.toISOString() } satisfies Meta));
  const payload = Buffer.alloc(4 + meta.length + entry.rawBody.length);
  payload.writeUInt32BE(meta.length, 0);
  meta.copy(payload, 4);
  entry.rawBody.copy(payload, 4 + meta.length);
  const header = Buffer.alloc(HEADER_BYTES);
  RECORD_MARKER.copy(header, 0);
  header.writeUInt32BE(payload.length, 4);
  header.writeUInt32BE(crc32(payload), 8);
  return Buffer.concat([header, payload]);
}

/** What a scan found, with its byte range relative to the scanned buffer. */
export type ScanItem =
  | { readonly kind: "record"; readonly start: number; readonly end: number; readonly entry: SpooledDelivery }
  | { readonly kind: "damaged"; readonly start: number; readonly end: number };

export interface ScanResult {
  readonly items: ScanItem[];
  /** Bytes fully accounted for; the rest is the start of a record that continues past the buffer. */
  readonly consumed: number;
}

/**
 * Reads records from `buffer`. With `atEnd` the buffer reaches the end of the file, so a record that
 * does not fit is a torn tail (damaged); otherwise scanning stops before it, for the caller to read
 * more. Runs in time linear in the buffer.
 */
export function scanRecords(buffer: Buffer, atEnd: boolean): ScanResult {
  const items: ScanItem[] = [];
  let pos = 0;
  const damagedUntilNextMarker = (from: number): boolean => {
    const next = buffer.indexOf(RECORD_MARKER, from + 1);
    if (next === -1 && !atEnd) {
      // A marker may straddle the buffer's end: keep the last bytes for the next read.
      const keep = Math.max(from, buffer.length - (RECORD_MARKER.length - 1));
      if (keep > from) items.push({ kind: "damaged", start: from, end: keep });
      pos = keep;
      return false;
    }
    const end = next === -1 ? buffer.length : next;
    items.push({ kind: "damaged", start: from, end });
    pos = end;
    return true;
  };

  while (pos < buffer.length) {
    const remaining = buffer.length - pos;
    if (remaining < HEADER_BYTES) {
      if (!atEnd) break;
      // Too short for a header: a torn tail, unless a whole record follows (it cannot: it would need a header).
      items.push({ kind: "damaged", start: pos, end: buffer.length });
      pos = buffer.length;
      break;
    }
    if (!buffer.subarray(pos, pos + RECORD_MARKER.length).equals(RECORD_MARKER)) {
      if (!damagedUntilNextMarker(pos)) break;
      continue;
    }
    const length = buffer.readUInt32BE(pos + 4);
    if (length > MAX_PAYLOAD_BYTES || length < 4) {
      if (!damagedUntilNextMarker(pos)) break;
      continue;
    }
    const end = pos + HEADER_BYTES + length;
    if (end > buffer.length) {
      if (!atEnd) break;
      // Does not fit before the end of the file: torn, or its length is damaged and records follow.
      if (!damagedUntilNextMarker(pos)) break;
      continue;
    }
    const payload = buffer.subarray(pos + HEADER_BYTES, end);
    const entry = crc32(payload) === buffer.readUInt32BE(pos + 8) ? decodePayload(payload) : undefined;
    if (entry === undefined) {
      if (!damagedUntilNextMarker(pos)) break;
      continue;
    }
    items.push({ kind: "record", start: pos, end, entry });
    pos = end;
  }
  return { items, consumed: pos };
}

function decodePayload(payload: Buffer): SpooledDelivery | undefined {
  const metaLength = payload.readUInt32BE(0);
  if (4 + metaLength > payload.length) return undefined;
  try {
    const meta = JSON.parse(payload.subarray(4, 4 + metaLength).toString("utf8")) as Partial<Meta>;
    const receivedAt = new Date(String(meta.receivedAt));
    if (meta.kind !== "delivery" || Number.isNaN(receivedAt.getTime())) return undefined;
    // A copy: the entry outlives the read buffer it came from.
    return { receivedAt, rawBody: Buffer.from(payload.subarray(4 + metaLength)) };
  } catch {
    return undefined;
  }
}
