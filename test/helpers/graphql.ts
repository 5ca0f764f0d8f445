import { mintApiToken } from "../../src/auth/token";
import { Client } from "pg";
import { TEST_JWT_SECRET } from "./test-app";

export interface GraphQLError {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLResponse<T> {
  status: number;
  data: T | null | undefined;
  errors: GraphQLError[] | undefined;
}

export interface GqlOptions {
  variables?: Record<string, unknown>;
  /** Bearer token; `null` sends no Authorization header. */
  token?: string | null;
  /** Any other Authorization header value, sent as is. */
  authorization?: string;
}

/** POSTs an operation to /graphql and returns the HTTP status with the parsed answer. */
export async function gql<T = Record<string, unknown>>(baseUrl: string, query: string, options: GqlOptions = {}): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables: options.variables }),
  });
  const body = (await response.json()) as { data?: T | null; errors?: GraphQLError[] };
  return { status: response.status, data: body.data, errors: body.errors };
}

/** Like gql, but fails the test on any GraphQL error and returns `data`. */
export async function gqlData<T = Record<string, unknown>>(baseUrl: string, query: string, options: GqlOptions = {}): Promise<T> {
  const result = await gql<T>(baseUrl, query, options);
  if (result.errors || !result.data) throw new Error(`GraphQL errors (HTTP ${result.status}): ${JSON.stringify(result.errors)}`);
  return result.data;
}

export interface TokenSpec {
  sub?: string;
  role?: "admin";
  /** Seconds from now; negative for an expired token. @default 3600 */
  expiresIn?: number;
  secret?: string;
}

/** An API token as `fleetgraph token` mints it (signed with TEST_JWT_SECRET unless `secret` says otherwise). */
export function signToken(spec: TokenSpec = {}): Promise<string> {
  return mintApiToken(spec.secret ?? TEST_JWT_SECRET, { sub: spec.sub, admin: spec.role === "admin", ttlSeconds: spec.expiresIn ?? 3600 });
}

/** An unsigned `alg: none` token (RFC 7519 §6), which must never be accepted. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

/**
 * Counts the SQL statements the app sends while `fn` runs, by wrapping pg's Client#query: every
 * TypeORM query goes through it, and the app under test runs in this process.
 */
export async function countQueries<T>(fn: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const queries: string[] = [];
  const prototype = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]) {
    const [config] = args;
    queries.push(typeof config === "string" ? config : String((config as { text?: unknown } | undefined)?.text ?? ""));
    return original.apply(this, args);
  };
  try {
    return { result: await fn(), queries };
  } finally {
    prototype.query = original;
  }
}
