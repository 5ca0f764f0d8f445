/**
 * Every error code a client can meet, in `{"error":{"code"}}` (webhooks and the other REST routes) and
 * in GraphQL's `extensions.code` (over HTTP and WebSocket alike). A code is a contract: it is added,
 * never renamed. Each says its HTTP status, then when it is answered; over WebSocket an error
 * has no status of its own. README "Error codes" lists them for clients (a unit test keeps it in step).
 * The codes Apollo Server answers itself keep its names (`ApolloServerErrorCode`).
 */
export const ErrorCode = {
  /** 400: a request we cannot take: a body cut short; a GraphQL request without a query, or a GET without CSRF preflight (Apollo's). */
  BAD_REQUEST: "BAD_REQUEST",
  /** 400: the request body is not valid JSON (a webhook's, once its signature holds). */
  MALFORMED_JSON: "MALFORMED_JSON",
  /** 4xx, the body parser's: a request body that could not be read for another reason. */
  CLIENT_ERROR: "CLIENT_ERROR",
  /** 401: `SC-Signature` missing or wrong on a webhook delivery. */
  INVALID_SIGNATURE: "INVALID_SIGNATURE",
  /** 401: a bearer token missing, invalid or expired (GraphQL over HTTP; `/metrics` with METRICS_TOKEN). */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  /** 403: an admin-only GraphQL operation with a user token. */
  FORBIDDEN: "FORBIDDEN",
  /** 404: no route for that method and path. */
  NOT_FOUND: "NOT_FOUND",
  /** 405: a method the path does not take (the `Allow` header says which). */
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  /** 413: a request body (inflated) over the limit. */
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  /** 415: not JSON, or an encoding or charset we do not read. */
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  /** 422: valid JSON that is not a Smartcar delivery (the message says which field). */
  UNPROCESSABLE_ENTITY: "UNPROCESSABLE_ENTITY",
  /** 429, with `Retry-After`: over a caller's operations a minute, or too many of its operations at once. */
  RATE_LIMITED: "RATE_LIMITED",
  /** 500 (200 beside a GraphQL answer's data): anything we did not foresee; the details are only in the log. */
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
  /** 503 (200 beside a GraphQL answer's data): the database cannot be reached, or `/readyz` finds it so; retry. */
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  /** 503: a VERIFY challenge while SMARTCAR_MANAGEMENT_TOKEN is not set. */
  NOT_CONFIGURED: "NOT_CONFIGURED",
  /** 200 (400 for variables, when nothing ran): a GraphQL argument we cannot use; `extensions.argument` names it. */
  BAD_USER_INPUT: "BAD_USER_INPUT",
  /** 400: a GraphQL subscription sent over HTTP (subscriptions go over WebSocket). */
  OPERATION_NOT_SUPPORTED: "OPERATION_NOT_SUPPORTED",
  /** 400: a GraphQL document of more than 10,000 tokens, refused before it is parsed. */
  QUERY_TOO_LARGE: "QUERY_TOO_LARGE",
  /** 400: GraphQL fields nested more than 12 deep, or `{ ( [` more than 64. */
  QUERY_TOO_DEEP: "QUERY_TOO_DEEP",
  /** 400: a GraphQL operation's estimated cost, or its count of filter conditions, over the limit. */
  QUERY_TOO_COMPLEX: "QUERY_TOO_COMPLEX",
  /** 200: a GraphQL field's statement ran past GRAPHQL_STATEMENT_TIMEOUT_MS and was cancelled; ask for less. */
  QUERY_TIMEOUT: "QUERY_TIMEOUT",
  /** 400: a GraphQL document that does not parse (Apollo's). */
  GRAPHQL_PARSE_FAILED: "GRAPHQL_PARSE_FAILED",
  /** 400: a GraphQL document that does not validate against the schema (Apollo's). */
  GRAPHQL_VALIDATION_FAILED: "GRAPHQL_VALIDATION_FAILED",
  /** 400: no operation of that name in the GraphQL document, or several and none named (Apollo's). */
  OPERATION_RESOLUTION_FAILURE: "OPERATION_RESOLUTION_FAILURE",
  /** 200: a GraphQL request with a `persistedQuery` extension; send the query itself (Apollo's). */
  PERSISTED_QUERY_NOT_SUPPORTED: "PERSISTED_QUERY_NOT_SUPPORTED",
  /** WebSocket only: a subscription past WS_MAX_SUBSCRIPTIONS_PER_SOCKET on one connection. */
  TOO_MANY_SUBSCRIPTIONS: "TOO_MANY_SUBSCRIPTIONS",
  /** WebSocket only: a `since` replay of more than WS_MAX_REPLAY_ROWS changes; subscribe again from the last one handled. */
  REPLAY_TOO_LONG: "REPLAY_TOO_LONG",
  /** WebSocket only: a subscriber that does not keep up with its changes; its subscription ends. */
  CLIENT_TOO_SLOW: "CLIENT_TOO_SLOW",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
