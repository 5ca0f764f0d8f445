import { graphqlErrorBody, graphqlErrorOf } from "./errors";
import { ErrorCode } from "../error-codes";
import { AppError } from "../errors";
import type { IncomingMessage } from "node:http";
import { GraphQLError, Lexer, Source, TokenKind } from "graphql";
import { LRUCache } from "lru-cache";
import { sendJson } from "../http/fast-path";
import type { Middleware } from "../http/middleware";

/**
 * Most lexical tokens one document may have. A real query has tens to hundreds (the introspection
 * query: 163); the bound keeps every validation rule's work small, whatever its complexity.
 */
export const MAX_TOKENS = 10_000;
/**
 * Deepest nesting of `{`, `(` and `[` in a document. Field depth is limited to 12 later; this bound
 * protects the parser and validator, which recurse per level (a few thousand levels overflow the stack).
 */
export const MAX_NESTING = 64;

const OPENING = new Set<string>([TokenKind.BRACE_L, TokenKind.PAREN_L, TokenKind.BRACKET_L]);
const CLOSING = new Set<string>([TokenKind.BRACE_R, TokenKind.PAREN_R, TokenKind.BRACKET_R]);

function tooLarge(message: string, code: ErrorCode): AppError {
  return new AppError(400, code, message);
}

/**
 * Checks a document's text before it is parsed, in one pass of the lexer (linear, no recursion).
 * Returns the error to answer with, or undefined; syntax errors are left to the parser to report.
 */
export function checkDocumentSource(source: string): GraphQLError | undefined {
  const refused = documentRefusal(source);
  return refused && graphqlErrorOf(refused);
}

/** The check itself, its refusal as one of our errors: HTTP answers it before Apollo sees the request. */
function documentRefusal(source: string): AppError | undefined {
  const lexer = new Lexer(new Source(source));
  let tokens = 0;
  let nesting = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > MAX_TOKENS) return tooLarge(`the document has more than ${MAX_TOKENS} tokens`, ErrorCode.QUERY_TOO_LARGE);
      if (OPENING.has(token.kind) && ++nesting > MAX_NESTING) {
        return tooLarge(`the document nests braces, parentheses or brackets more than ${MAX_NESTING} deep`, ErrorCode.QUERY_TOO_DEEP);
      }
      if (CLOSING.has(token.kind)) nesting--;
    }
  } catch (error) {
    if (error instanceof GraphQLError) return undefined;
    throw error;
  }
  return undefined;
}

/**
 * Documents that passed, by their text: apps send the same few documents again and again (Apollo keeps
 * their parsed and validated form likewise). Only short ones are kept, so the cache stays small.
 */
const PASSED_DOCUMENTS = 1000;
const KEPT_DOCUMENT_LENGTH = 10_000;

/** For GraphQL over HTTP: refuses a too large document (POST body or GET `query`) with 400 before it is parsed. */
export function documentLimits(): Middleware {
  const passed = new LRUCache<string, true>({ max: PASSED_DOCUMENTS });
  const check = (query: string): AppError | undefined => {
    if (passed.has(query)) return undefined;
    const error = documentRefusal(query);
    if (!error && query.length <= KEPT_DOCUMENT_LENGTH) passed.set(query, true);
    return error;
  };
  return (req, res, next) => {
    const query = documentOf(req);
    const error = typeof query === "string" ? check(query) : undefined;
    if (!error) return next();
    sendJson(res, error.status, graphqlErrorBody(error));
  };
}

/** The document of a GET (its `query` parameter, as Apollo reads it) or of a parsed POST body. */
function documentOf(req: IncomingMessage & { body?: unknown }): unknown {
  if (req.method === "GET") return new URLSearchParams(req.url?.split("?")[1] ?? "").get("query") ?? undefined;
  const body = req.body;
  return body !== null && typeof body === "object" ? (body as { query?: unknown }).query : undefined;
}
