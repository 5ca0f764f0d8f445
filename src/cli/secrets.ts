import { SignJWT } from "jose";
import { ConfigError, loadConfig } from "../config";
import { SetupError } from "./command";

type Env = Record<string, string | undefined>;

/**
 * One variable read with the service's own rules (src/config.ts), so the command and the service agree
 * on what a valid value is; the other variables are left out, so an unrelated one cannot stop a command.
 */
function readWithServiceRules<T>(env: Env, name: string, pick: (config: ReturnType<typeof loadConfig>) => T): T {
  try {
    return pick(loadConfig({ [name]: env[name] }));
  } catch (error) {
    if (error instanceof ConfigError) throw new SetupError(error.message.replace(/^Invalid configuration:\n\s*- /, ""));
    throw error;
  }
}

/** JWT_SECRET as the service uses it; undefined when unset. */
export function jwtSecretFrom(env: Env): string | undefined {
  return readWithServiceRules(env, "JWT_SECRET", (config) => config.jwtSecret);
}

/** The current SMARTCAR_MANAGEMENT_TOKEN (the first of a rotation list) as the service uses it; undefined when unset. */
export function managementTokenFrom(env: Env): string | undefined {
  return readWithServiceRules(env, "SMARTCAR_MANAGEMENT_TOKEN", (config) => config.managementTokens[0]);
}

export interface ApiTokenClaims {
  /** Smartcar user id the token is scoped to; optional for an admin token. */
  readonly sub?: string;
  readonly admin: boolean;
  readonly ttlSeconds: number;
}

/** An HS256 API token the service accepts (src/auth/viewer.ts): `sub`, optional `role: "admin"`, always `exp`. */
export async function mintApiToken(secret: string, claims: ApiTokenClaims, now = new Date()): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const jwt = new SignJWT(claims.admin ? { role: "admin" } : {})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + claims.ttlSeconds);
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  return jwt.sign(new TextEncoder().encode(secret));
}
