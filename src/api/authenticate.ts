import type { IncomingMessage } from "node:http";
import { ErrorCode } from "../error-codes";
import { AppError } from "../errors";
import { graphqlErrorOf } from "../graphql/errors";
import type { Middleware } from "../http/middleware";
import type { TokenVerifier, Viewer } from "../auth/viewer";

interface Authentication {
  readonly viewer?: Viewer;
  readonly refused?: AppError;
}

/** What `authenticate` found for each request still in flight. */
const authentications = new WeakMap<IncomingMessage, Authentication>();

/**
 * Verifies the request's bearer token once and keeps the outcome for later steps (the per-token
 * rate limit, the GraphQL context). A refused token does not end the request here: GraphQL answers
 * it with 401 in its own error shape.
 */
export function authenticate(tokens: TokenVerifier): Middleware {
  return async (req, _res, next) => {
    let authentication: Authentication;
    try {
      authentication = { viewer: await tokens.verify(req.headers.authorization) };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      authentication = { refused: error };
    }
    authentications.set(req, authentication);
    next();
  };
}

/** The verified viewer of a request `authenticate` saw, or undefined (no token, or a refused one). */
export function verifiedViewerOf(req: IncomingMessage): Viewer | undefined {
  return authentications.get(req)?.viewer;
}

/** The viewer of a request `authenticate` saw; throws the GraphQL error to answer with when its token was refused. */
export function viewerOf(req: IncomingMessage): Viewer {
  const authentication = authentications.get(req);
  if (authentication?.viewer) return authentication.viewer;
  const refused = authentication?.refused ?? new AppError(401, ErrorCode.UNAUTHENTICATED, "missing or invalid credentials");
  throw graphqlErrorOf(refused);
}
