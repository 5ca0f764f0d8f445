import type { IncomingMessage } from "node:http";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import express from "express";
import type { TokenVerifier, Viewer } from "../auth/viewer";
import { ErrorCode } from "../error-codes";
import { BadRequest } from "../errors";
import type { Context } from "../graphql/context";
import { documentLimits } from "../graphql/document-limits";
import { errorAnswer } from "../http/error-middleware";
import { fastRoute, readBody, sendJson, type FastPath } from "../http/fast-path";
import { runSteps, type Middleware } from "../http/middleware";
import type { Logger } from "../logger";
import { authenticate, viewerOf } from "./authenticate";
import type { CallerLimits } from "./rate-limits";

export const GRAPHQL_PATH = "/graphql";
/** Largest request body (of a compressed one, its inflated bytes). */
const BODY_LIMIT = 1024 * 1024;

export interface GraphQLHttpOptions {
  readonly apollo: ApolloServer<Context>;
  readonly tokens: TokenVerifier;
  /** Rate limits and turns per caller, shared with the WebSocket transport. */
  readonly limits: CallerLimits;
  /** One operation's context; throws the GraphQL error to answer with (a 503 while there is no database). */
  readonly context: (viewer: Viewer) => Context;
  readonly logger: Logger;
}

/** A request once its body is parsed (express's convention, which Apollo's integrations follow). */
type ParsedRequest = IncomingMessage & { body?: unknown };

/**
 * GraphQL over HTTP: rate limits, the token, the body, the document's size, then Apollo. `route` is
 * for express (mounted at /graphql: GET, the landing page, compressed bodies, other charsets);
 * `fastPath` answers the plain JSON POSTs apps send on node:http before express sees them, through
 * the same steps but its own body reader. It returns false, touching nothing, for any other request.
 */
export function graphqlHttp(options: GraphQLHttpOptions): { route: Middleware[]; fastPath: FastPath } {
  const { limits } = options;
  // Cheapest first: the IP limit before any work, the token limit once the token is verified; a turn
  // once the body is read and its document is within limits.
  const before = [...limits.perIp, authenticate(options.tokens), ...limits.perToken];
  const after = [documentLimits(), ...limits.concurrency, answer(options)];
  const fastSteps = [...before, readJson, ...after];
  return {
    route: [...before, express.json({ limit: BODY_LIMIT }) as unknown as Middleware, ...after],
    fastPath: fastRoute(GRAPHQL_PATH, options.logger, (req, res) =>
      runSteps(fastSteps, req, res, (error) => {
        const { status, headers, body } = errorAnswer(error, req.log, req.method, GRAPHQL_PATH);
        if (res.headersSent) res.destroy();
        else sendJson(res, status, body, headers);
      }),
    ),
  };
}

/** The body as express.json reads it (strict: an object or an array; an empty body is `{}`). */
const readJson: Middleware = async (req: ParsedRequest, _res, next) => {
  const text = (await readBody(req, BODY_LIMIT)).toString("utf8");
  let body: unknown = {};
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (body === null || typeof body !== "object") throw new BadRequest("request body is not valid JSON", ErrorCode.MALFORMED_JSON);
  }
  req.body = body;
  next();
};

/** Hands the request to Apollo (what @as-integrations/express5 does, on node:http's own objects) and writes its answer. */
function answer({ apollo, context }: GraphQLHttpOptions): Middleware {
  return async (req: ParsedRequest, res) => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    const query = req.url?.indexOf("?") ?? -1;
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method?.toUpperCase() ?? "GET", headers, search: query < 0 ? "" : req.url!.slice(query), body: req.body },
      context: async () => context(viewerOf(req)),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
