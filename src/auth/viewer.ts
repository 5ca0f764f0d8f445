import { errors, jwtVerify } from "jose";
import { LRUCache } from "lru-cache";
import { Unauthenticated } from "../errors";

/**
 * Who is asking. `admin` sees everything; `user` sees only vehicles whose Smartcar user id is theirs;
 * `open` is the development mode without JWT_SECRET, which sees everything too.
 */
export type Viewer =
  | { readonly kind: "admin"; readonly subject: string | undefined; readonly expiresAt: Date | undefined }
  | { readonly kind: "user"; readonly userId: string; readonly expiresAt: Date | undefined }
  | { readonly kind: "open" };

/** The Smartcar user id a viewer is limited to, or undefined when it may see every vehicle. */
export function scopeOf(viewer: Viewer): string | undefined {
  return viewer.kind === "user" ? viewer.userId : undefined;
}

/** True when the viewer may see data of the vehicle owned by `ownerUserId`. */
export function canSee(viewer: Viewer, ownerUserId: string | null | undefined): boolean {
  return viewer.kind !== "user" || viewer.userId === ownerUserId;
}

/** The latest `exp` accepted: the last second a JavaScript Date holds (year 275760). */
export const MAX_TOKEN_EXP_SECONDS = 8_640_000_000_000;

/** When a token expires; Unauthenticated when its `exp` is missing or not a time (jose checked that it has not passed). */
function expiryOf(exp: unknown): Date {
  if (exp === undefined) throw new Unauthenticated("token has no exp claim");
  if (typeof exp !== "number" || !Number.isFinite(exp) || exp > MAX_TOKEN_EXP_SECONDS) {
    throw new Unauthenticated(`token exp must be a number of seconds since 1970 of at most ${MAX_TOKEN_EXP_SECONDS}`);
  }
  return new Date(exp * 1000);
}

/**
 * Verified tokens kept: an app sends the same token with every request until it expires, and an
 * HMAC check with its JSON parsing cost more than the rest of a small query's authentication.
 */
const VERIFIED_TOKENS = 10_000;

export class TokenVerifier {
  private readonly key: Uint8Array | undefined;
  /**
   * Viewers of tokens that verified, keyed by the whole token (a hit is the very string that passed
   * the signature check), each until its `exp`: bounded, least recently used out first. Refusals are
   * not kept (a flood of junk tokens must not push out real ones).
   */
  private readonly verified = new LRUCache<string, Viewer & { readonly expiresAt: Date | undefined }>({ max: VERIFIED_TOKENS });

  constructor(secret: string | undefined) {
    this.key = secret === undefined ? undefined : new TextEncoder().encode(secret);
  }

  /** Whether the API is open (no JWT_SECRET, development only). */
  get open(): boolean {
    return this.key === undefined;
  }

  /**
   * Verifies an `Authorization` value (`Bearer <JWT>`, HS256 only). Throws Unauthenticated for a
   * missing, malformed, forged, expired or `alg: none` token, and for one without a usable `exp`:
   * every token must expire (one without `exp` would live forever), and its `exp` must be a number
   * of seconds a Date can hold, so HTTP and WebSocket (which closes the socket at `exp`) agree.
   */
  async verify(authorization: string | undefined | null): Promise<Viewer> {
    if (this.key === undefined) return { kind: "open" };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match) throw new Unauthenticated("missing bearer token");
    const token = match[1];
    const known = this.verified.get(token);
    // jose refuses a token from its `exp` second on (exp <= now): the same here.
    if (known?.expiresAt && known.expiresAt.getTime() > Date.now()) return known;
    if (known) this.verified.delete(token);
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"] });
      const expiresAt = expiryOf(payload.exp);
      let viewer: Viewer & { readonly expiresAt: Date };
      if (payload.role === "admin") viewer = { kind: "admin", subject: payload.sub, expiresAt };
      else if (typeof payload.sub !== "string" || payload.sub === "") throw new Unauthenticated("token has no sub claim");
      else viewer = { kind: "user", userId: payload.sub, expiresAt };
      this.verified.set(token, viewer);
      return viewer;
    } catch (error) {
      if (error instanceof Unauthenticated) throw error;
      if (error instanceof errors.JWTExpired) throw new Unauthenticated("token expired");
      throw new Unauthenticated("invalid token");
    }
  }
}
