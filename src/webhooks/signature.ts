import { createHmac, timingSafeEqual } from "node:crypto";

/** Lowercase hex HMAC-SHA256, Smartcar's scheme for both `SC-Signature` and the VERIFY answer. */
export function hmacHex(key: string, message: string | Buffer): string {
  return createHmac("sha256", key).update(message).digest("hex");
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * True when `header` is the HMAC of the exact raw body under any of the keys (several during token
 * rotation). Constant time: a missing, short or non-hex header is rejected before comparing, and
 * every key is compared so timing does not tell which one matched.
 */
export function signatureMatches(rawBody: Buffer, header: string | undefined, keys: readonly string[]): boolean {
  if (header === undefined || !HEX_SHA256.test(header.trim())) return false;
  const received = Buffer.from(header.trim(), "hex");
  let matched = false;
  for (const key of keys) {
    const expected = createHmac("sha256", key).update(rawBody).digest();
    if (timingSafeEqual(expected, received)) matched = true;
  }
  return matched;
}
