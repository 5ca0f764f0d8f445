import { SignJWT } from "jose";

export interface ApiTokenClaims {
  /** Smartcar user id the token is scoped to; optional for an admin token. */
  readonly sub?: string;
  readonly admin: boolean;
  /** Seconds from `now` to `exp`; negative makes an expired token (tests). */
  readonly ttlSeconds: number;
}

/**
 * An HS256 API token the service accepts (TokenVerifier): `sub`, optional `role: "admin"`, always
 * `exp`. The one signer: `fleetgraph token`, `check-webhook`, the tests and the benchmarks use it.
 */
export async function mintApiToken(secret: string, claims: ApiTokenClaims, now = new Date()): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const jwt = new SignJWT(claims.admin ? { role: "admin" } : {})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + claims.ttlSeconds);
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  return jwt.sign(new TextEncoder().encode(secret));
}
