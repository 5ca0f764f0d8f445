import { hmacHex } from "./signature";

/**
 * The challenges we answer without a signature: short and plain (contract). Smartcar's are UUIDs.
 * Anything else could make the endpoint sign an arbitrary string for a caller, i.e. forge an
 * `SC-Signature` for a body of the caller's choosing.
 */
const PLAIN_CHALLENGE = /^[A-Za-z0-9_.~-]{1,256}$/;

export function isPlainChallenge(challenge: string): boolean {
  return PLAIN_CHALLENGE.test(challenge);
}

/** The VERIFY answer: the challenge's HMAC under the first (current) management token. */
export function answerChallenge(challenge: string, managementToken: string): { challenge: string } {
  return { challenge: hmacHex(managementToken, challenge) };
}
