import type { RequestHandler, Response } from "express";
import { AppError } from "../errors";
import { graphqlErrorOf } from "../graphql/errors";
import type { TokenVerifier, Viewer } from "../auth/viewer";

interface Authentication {
  readonly viewer?: Viewer;
  readonly refused?: AppError;
}

/**
 * Express middleware: verifies the request's bearer token once and keeps the outcome for later
 * steps (the per-token rate limit, the GraphQL context). A refused token does not end the request
 * here: GraphQL answers it with 401 in its own error shape.
 */
export function authenticate(tokens: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    let authentication: Authentication;
    try {
      authentication = { viewer: await tokens.verify(req.headers.authorization) };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      authentication = { refused: error };
    }
    res.locals.authentication = authentication;
    next();
  };
}

/** The verified viewer of a request `authenticate` saw, or undefined (no token, or a refused one). */
export function verifiedViewerOf(res: Response): Viewer | undefined {
  return (res.locals.authentication as Authentication | undefined)?.viewer;
}

/** The viewer of a request `authenticate` saw; throws the GraphQL error to answer with when its token was refused. */
export function viewerOf(res: Response): Viewer {
  const authentication = res.locals.authentication as Authentication | undefined;
  if (authentication?.viewer) return authentication.viewer;
  const refused = authentication?.refused ?? new AppError(401, "UNAUTHENTICATED", "missing or invalid credentials");
  throw graphqlErrorOf(refused);
}
