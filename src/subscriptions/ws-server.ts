import { graphqlErrorOf } from "../graphql/errors";
import type http from "node:http";
import type { Duplex } from "node:stream";
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { LRUCache } from "lru-cache";
import { WebSocketServer, type WebSocket } from "ws";
import { scopeOf, type TokenVerifier, type Viewer } from "../auth/viewer";
import { ErrorCode } from "../error-codes";
import { AppError } from "../errors";
import { createFormatError } from "../graphql/format-error";
import { checkDocumentSource } from "../graphql/document-limits";
import { checkOperationLimits } from "../graphql/query-limits";
import type { Logger } from "../logger";
import { liveInputOf, type Hub, type LiveInput } from "../changes/hub";
import type { Metrics } from "../metrics/metrics";
import { expiryCheckDelay } from "./token-expiry";

export interface SubscriptionServerOptions {
  readonly httpServer: http.Server;
  /** The HTTP GraphQL path: one URL for queries and subscriptions. @default "/graphql" */
  readonly path?: string;
  readonly schema: GraphQLSchema;
  readonly tokens: TokenVerifier;
  readonly hub: Hub;
  readonly logger: Logger;
  /**
   * Builds a GraphQL context from the connection's caller: for each query and mutation, and for each
   * change a subscription sends (shared by identical subscriptions), so per-operation caches
   * (DataLoaders) never serve stale data.
   */
  readonly context: (input: LiveInput) => unknown;
  /** Ping interval; a client that misses a pong for as long is terminated. @default 12_000 */
  readonly keepAliveMs?: number;
  /** Bytes a socket may have queued unsent (a large query result, say) before the client counts as too slow. @default 1 MiB */
  readonly maxBufferedBytes?: number;
  /** Subscriptions one socket may have open; one more is refused with TOO_MANY_SUBSCRIPTIONS. @default 100 */
  readonly maxSubscriptionsPerSocket?: number;
  /**
   * Message credits a socket may spend per second (a message costs 1, plus 1 per KiB); a socket
   * spending more is closed with 1008. @default 500
   */
  readonly maxMessageCreditsPerSecond?: number;
  /** Time a socket may stay open without sending connection_init; then it is closed with 4408. @default 3_000 */
  readonly connectionInitWaitMs?: number;
  /** Whether `__schema` and `__type` are answered: as over HTTP (off in production). @default true */
  readonly introspection?: boolean;
  /** Counts the changes sent to subscriptions. */
  readonly metrics?: Metrics;
  /** The per-caller limits of HTTP (src/api/rate-limits.ts), which queries and mutations sent here obey too. */
  readonly limits?: OperationLimits;
}

/** Rate limits and turns per caller, shared with HTTP: a socket is no way around them. */
export interface OperationLimits {
  /** Counts one operation: the error to answer it with when the caller is over a per-minute budget. */
  spend(viewer: Viewer, remoteAddress: string | undefined): Promise<GraphQLError | undefined>;
  /** Waits for one of the caller's turns: the function that ends it, or the error to answer with. */
  enter(viewer: Viewer): Promise<(() => void) | GraphQLError>;
}

export interface SubscriptionServer {
  /**
   * Refuses new connections, sends the changes already committed (up to `timeoutMs`), then closes
   * every socket with 1001 Going Away; clients reconnect elsewhere and resume with `since`.
   */
  close(timeoutMs?: number): Promise<void>;
  /** Open WebSocket connections and the subscriptions open on them, for the metrics. */
  live(): { sockets: number; subscriptions: number };
}

/** RFC 6455 "Try Again Later": graphql-ws clients retry it, and resume with `since`. */
const TRY_AGAIN_LATER = 1013;
/** RFC 6455 "Policy Violation": graphql-ws clients do not retry it. */
const POLICY_VIOLATION = 1008;

/**
 * graphql-ws (protocol graphql-transport-ws) on the HTTP server's `/graphql`: the bearer token comes in
 * `connection_init` (`{"Authorization": "Bearer <JWT>"}`) and is checked once; the socket closes when it
 * expires. Keep-alive pings find dead peers; a client that does not read is dropped before its
 * queued changes grow the server's memory.
 */
export function startSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const { httpServer, tokens, hub, logger } = options;
  const path = options.path ?? "/graphql";
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  const maxSubscriptions = options.maxSubscriptionsPerSocket ?? 100;
  const maxCredits = options.maxMessageCreditsPerSecond ?? 500;
  const rules = options.introspection === false ? [...specifiedRules, NoSchemaIntrospectionCustomRule] : specifiedRules;
  const formatError = createFormatError(logger);
  // Messages from clients are small (subscribe, ping, complete); 64 KiB leaves room for long queries.
  // No compression: a deflate context costs each socket hundreds of KiB, and changes are small.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  /** Each authenticated socket's caller and connection, the context every subscription on it starts from. */
  const inputs = new WeakMap<WebSocket, LiveInput>();
  /**
   * Parsed and validated documents by their text: clients send the same few documents (variables
   * differ), and one parsed document (its tokens and locations) is several KiB per subscription.
   * Bounded by text length too, so that many large documents cannot make it grow to hundreds of MiB.
   */
  const documents = new LRUCache<string, { document: DocumentNode } | { errors: readonly GraphQLError[] }>({
    max: 1_000,
    maxSize: 1_000_000,
    sizeCalculation: (_parsed, query) => query.length,
  });
  /** Each socket's peer address, for the per-IP rate limit (kept from the upgrade request, which is not kept). */
  const remoteAddresses = new WeakMap<WebSocket, string | undefined>();
  /** Ids of each socket's open subscriptions (queries are not counted: they end by themselves). */
  const subscriptionIds = new WeakMap<WebSocket, Set<string>>();
  let closing = false;
  /** Subscriptions open on every socket: admitted, not yet completed. */
  let openSubscriptions = 0;

  function onUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const { pathname } = new URL(request.url ?? "/", "http://localhost");
    if (pathname !== path || closing) {
      socket.end(`HTTP/1.1 ${closing ? "503 Service Unavailable" : "404 Not Found"}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    // Without the request: graphql-ws would keep it (headers and all) for the socket's lifetime, unused.
    wss.handleUpgrade(request, socket, head, (ws) => {
      remoteAddresses.set(ws, request.socket.remoteAddress);
      wss.emit("connection", ws);
    });
  }
  httpServer.on("upgrade", onUpgrade);

  /**
   * A subscription's queue is over its limit (ResumableSubscription): the client's fault only if its
   * own socket backs up. graphql-ws sends a subscription's next change only once the kernel took the
   * previous one, so a socket of a client that reads holds nothing unsent however busy this process
   * is (it is then the server that is behind, and the subscription coalesces its queue), while a
   * client that does not read leaves a message waiting behind its full TCP window, megabytes after it
   * stopped: that one is dropped. Returns whether it was.
   */
  function dropIfBackedUp(socket: WebSocket): boolean {
    if (socket.readyState === socket.OPEN && socket.bufferedAmount === 0) return false;
    dropSlowClient(socket);
    return true;
  }
  hub.onCoalesced((count) => options.metrics?.changeCoalesced(count));

  function dropSlowClient(socket: WebSocket): void {
    if (socket.readyState !== socket.OPEN) return;
    logger.warn({ bufferedAmount: socket.bufferedAmount }, "dropping a subscription client that does not keep up");
    socket.close(TRY_AGAIN_LATER, "Client too slow");
    // The close frame waits behind the unread data; do not wait for a client that does not read.
    setTimeout(() => socket.terminate(), 1_000).unref();
  }

  function closeOnExpiry(socket: WebSocket, viewer: Viewer): void {
    const expiresAt = viewer.kind === "open" ? undefined : viewer.expiresAt?.getTime();
    if (expiresAt === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const delay = expiryCheckDelay(expiresAt, Date.now());
      if (delay === undefined) return;
      if (delay === 0) return socket.close(CloseCode.Unauthorized, "Token expired");
      timer = setTimeout(check, delay);
    };
    check();
    socket.once("close", () => clearTimeout(timer));
  }

  /**
   * A socket may spend `maxCredits` per second: a message costs 1 plus 1 per KiB, so many small
   * messages and a few large ones (parsed and validated each) are bounded alike. Registered before
   * graphql-ws's own listener; a socket over its budget is closed and no longer read.
   */
  function limitMessageRate(socket: WebSocket): void {
    let windowStart = Date.now();
    let spent = 0;
    socket.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      const now = Date.now();
      if (now - windowStart >= 1_000) {
        windowStart = now;
        spent = 0;
      }
      const bytes = Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
      spent += 1 + Math.floor(bytes / 1024);
      if (spent <= maxCredits || socket.readyState !== socket.OPEN) return;
      logger.warn({ limit: maxCredits }, "closing a WebSocket client that sends too many messages");
      socket.close(POLICY_VIOLATION, "Too many messages");
      socket.pause();
      setTimeout(() => socket.terminate(), 1_000).unref();
    });
  }
  wss.on("connection", limitMessageRate);

  /** Refuses a subscription past the socket's allowance; records an accepted one until onComplete. */
  function admitSubscription(socket: WebSocket, id: string): GraphQLError | undefined {
    let ids = subscriptionIds.get(socket);
    if (!ids) subscriptionIds.set(socket, (ids = new Set()));
    if (ids.size >= maxSubscriptions) {
      const message = `a connection may have at most ${maxSubscriptions} subscriptions open: complete one, or subscribe with one operation to several things`;
      return graphqlErrorOf(new AppError(429, ErrorCode.TOO_MANY_SUBSCRIPTIONS, message));
    }
    ids.add(id);
    openSubscriptions++;
    return undefined;
  }

  /** Errors as over HTTP (createFormatError): codes kept, database and internal details only in the log. */
  function format(error: GraphQLError): GraphQLFormattedError {
    // graphql-ws wraps an error thrown by a subscription's stream of changes in a GraphQLError without a path.
    const original = error.path === undefined && error.originalError ? error.originalError : error;
    return formatError(error.toJSON(), original);
  }

  function inputOf(socket: WebSocket): LiveInput {
    const input = inputs.get(socket);
    // onConnect stores it before graphql-ws accepts any subscribe message.
    if (!input) throw new Error("subscription on an unauthenticated socket");
    return input;
  }

  /** The document of `query`, parsed and validated once, or the errors to answer with. */
  function documentOf(query: string): { document: DocumentNode } | { errors: readonly GraphQLError[] } {
    let found = documents.get(query);
    if (found) return found;
    try {
      const document = parse(query);
      // The same rules as Apollo's over HTTP: introspection too is refused exactly when it is there.
      const invalid = validate(options.schema, document, rules);
      found = invalid.length > 0 ? { errors: invalid.map((error) => withCode(error, ErrorCode.GRAPHQL_VALIDATION_FAILED)) } : { document };
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      found = { errors: [withCode(error, ErrorCode.GRAPHQL_PARSE_FAILED)] };
    }
    documents.set(query, found);
    return found;
  }

  const server = useServer(
    {
      schema: options.schema,
      connectionInitWaitTimeout: options.connectionInitWaitMs ?? 3_000,
      // A subscription's own context only needs its caller (see subscribeShared); an idle
      // subscription then holds no per-operation caches. Queries and mutations get a full one.
      context: (ctx, _id, _payload, args) => {
        const input = inputOf(ctx.extra.socket);
        return getOperationAST(args.document, args.operationName)?.operation === "subscription" ? input : options.context(input);
      },
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const authorization = params.Authorization ?? params.authorization;
        let viewer: Viewer;
        try {
          viewer = await tokens.verify(typeof authorization === "string" ? authorization : undefined);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          // graphql-ws would close with 4403; the contract says 4401, and a close already sent wins.
          ctx.extra.socket.close(CloseCode.Unauthorized, "Unauthorized");
          return false;
        }
        const socket = ctx.extra.socket;
        inputs.set(socket, { viewer, live: { hub, dropSlowClient: () => dropIfBackedUp(socket) } });
        closeOnExpiry(ctx.extra.socket, viewer);
        return true;
      },
      // The same depth and cost limits as over HTTP, checked before anything runs.
      onSubscribe: async (ctx, id, payload) => {
        // Bounded before parsing, as over HTTP: the parser recurses, and a deep enough document overflows its stack.
        const unparsable = checkDocumentSource(payload.query);
        if (unparsable) return [unparsable];
        const parsed = documentOf(payload.query);
        if ("errors" in parsed) return [...parsed.errors];
        const { document } = parsed;
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [new GraphQLError("Unable to identify operation", { extensions: { code: ErrorCode.OPERATION_RESOLUTION_FAILURE } })];
        const tooLarge = checkOperationLimits(options.schema, document, operation, payload.variables ?? undefined);
        if (tooLarge) return [tooLarge];
        if (operation.operation === "subscription") {
          const refused = admitSubscription(ctx.extra.socket, id);
          if (refused) return [refused];
        } else {
          // A query or mutation counts as it would over HTTP (a subscription's cost is bounded per socket instead).
          const limited = await options.limits?.spend(inputOf(ctx.extra.socket).viewer, remoteAddresses.get(ctx.extra.socket));
          if (limited) return [limited];
        }
        return { schema: options.schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      onNext: (ctx, id, _payload, _args, result) => {
        if (ctx.extra.socket.bufferedAmount > maxBufferedBytes) dropSlowClient(ctx.extra.socket);
        if (subscriptionIds.get(ctx.extra.socket)?.has(id)) options.metrics?.changeDelivered();
        return result.errors ? { ...result, errors: result.errors.map(format) } : undefined;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map(format),
      onComplete: (ctx, id) => {
        if (subscriptionIds.get(ctx.extra.socket)?.delete(id)) openSubscriptions--;
      },
      // The operation's context is its socket's LiveInput.
      subscribe: (args) => subscribeShared(args, liveInputOf(args.contextValue), options.context),
      // Queries and mutations wait for one of their caller's turns, as over HTTP.
      execute: async (args) => {
        const turn = await options.limits?.enter((args.contextValue as { viewer: Viewer }).viewer);
        if (turn instanceof GraphQLError) return { errors: [turn] };
        try {
          return await execute(args);
        } finally {
          turn?.();
        }
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );
  // graphql-ws prints a socket's errors with console.error, where a client could fill stderr with
  // stack traces. ws has closed such a socket already (an oversized frame: 1009): a log line will do.
  wss.on("connection", (socket) => {
    socket.removeAllListeners("error");
    socket.on("error", (error) => logger.debug({ err: error }, "WebSocket client error"));
  });

  return {
    live: () => ({ sockets: wss.clients.size, subscriptions: openSubscriptions }),
    async close(timeoutMs = 5_000) {
      closing = true;
      await hub.drain(timeoutMs);
      // A client that never answers the close frame is cut after the timeout.
      const timer = setTimeout(() => wss.clients.forEach((socket) => socket.terminate()), timeoutMs);
      try {
        await server.dispose();
      } finally {
        clearTimeout(timer);
      }
      httpServer.off("upgrade", onUpgrade);
    },
  };
}

/** The error with `extensions.code` set, as Apollo sets it for the same failure over HTTP. */
function withCode(error: GraphQLError, code: ErrorCode): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

/**
 * Results by payload, then by what else they depend on (document, operation, variables, viewer scope):
 * subscribers of the same change with the same subscription share one execution (and its context)
 * instead of each running GraphQL. Payloads are objects the hub shares while it keeps them; entries go
 * with them.
 */
const shared = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
/** A number per document (documents are shared through the cache), for the keys above. */
const documentIds = new WeakMap<DocumentNode, number>();
let lastDocumentId = 0;

/**
 * graphql-js executes every change of a subscription with the one context made when it started;
 * here each change gets a new one, as an HTTP request would, made once for all the subscribers that
 * would get the same result.
 */
async function subscribeShared(
  args: ExecutionArgs,
  input: LiveInput,
  contextOf: (input: LiveInput) => unknown,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const changes = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in changes)) return changes;
  const iterator = changes[Symbol.asyncIterator]();
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) documentIds.set(args.document, (documentId = ++lastDocumentId));
  // Results differ only by what the viewer may see: its kind and scope, never its token.
  const key = [documentId, args.operationName ?? "", input.viewer.kind, scopeOf(input.viewer) ?? "", JSON.stringify(args.variableValues ?? {})].join("\n");
  const executeOnce = (payload: object): Promise<ExecutionResult> => {
    let results = shared.get(payload);
    if (!results) shared.set(payload, (results = new Map()));
    let result = results.get(key);
    if (!result) {
      result = Promise.resolve(execute({ ...args, rootValue: payload, contextValue: contextOf(input) }));
      results.set(key, result);
    }
    return result;
  };
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => mapped,
    async next() {
      const change = await iterator.next();
      if (change.done) return { value: undefined, done: true };
      return { value: await executeOnce(change.value as object), done: false };
    },
    async return() {
      await iterator.return?.();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await iterator.return?.();
      throw error;
    },
  };
  return mapped;
}
