import "reflect-metadata";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import express from "express";
import type { GraphQLSchema } from "graphql";
import type { DataSource } from "typeorm";
import { TokenVerifier } from "./auth/viewer";
import type { Config } from "./config";
import { openPools, type PoolSettings, type Pools } from "./db/pools";
import { ENTITIES } from "./entities";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./db/embedded-postgres";
import { afterCommit } from "./db/after-commit";
import { isDatabaseUnavailable, isLockNotAvailable } from "./db/pg-errors";
import { ServiceUnavailable } from "./errors";
import { createContext, type Context } from "./graphql/context";
import { graphqlErrorOf } from "./graphql/errors";
import { createFormatError } from "./graphql/format-error";
import { MAX_TOKENS } from "./graphql/document-limits";
import { queryLimitsPlugin } from "./graphql/query-limits";
import { graphqlHttp } from "./api/graphql-http";
import { callerLimits } from "./api/rate-limits";
import { buildAppSchema } from "./api/schema";
import { closeGracefully } from "./http/close-gracefully";
import { errorMiddleware, notFound } from "./http/error-middleware";
import { healthRouter } from "./http/health.router";
import { securityHeaders } from "./http/security-headers";
import { createLogger, describeDatabaseUrl, type Logger } from "./logger";
import { Spool } from "./webhooks/spool";
import { SpoolDrainer } from "./webhooks/spool-drainer";
import { ensureMonths } from "./signals/reading-partitions";
import { logEnsured, RetentionJob } from "./webhooks/retention";
import { SilentVehicleCheck } from "./webhooks/silent-vehicles";
import { createChangeBus } from "./changes/bus";
import type { ChangeBus, ChangePublisher } from "./changes/change";
import { Hub } from "./changes/hub";
import { startSubscriptionServer, type SubscriptionServer } from "./subscriptions/ws-server";
import { IngestionService } from "./webhooks/ingestion.service";
import { webhookFastPath, webhookRouter } from "./webhooks/webhook.router";
import { fleetPageRouter } from "./page/fleet-page.router";
import { Metrics, metricsRouter } from "./metrics/metrics";
import { graphqlMetricsPlugin } from "./metrics/graphql-metrics";
import { requestLogs } from "./http/request-logs";
import type { FastPath } from "./http/fast-path";

export interface AppOptions {
  logger?: Logger;
}

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly httpServer: http.Server;
  /** This app's Prometheus registry (served at GET /metrics). */
  readonly metrics: Metrics;
  /** Available after start(): the primary pool (migrations, jobs), also for direct SQL. */
  readonly dataSource: DataSource;
  /** Available after start(): every pool, by the work it serves (src/db/pools.ts). */
  readonly pools: Pools;
  /** `http://host:port` once listening (the real port when PORT=0). */
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Connections in the pool of reads; PGlite is one session: its socket server interleaves concurrent
 * connections' protocol messages (one's unnamed statement or portal replaces another's), so it gets
 * exactly one, which every kind of work then shares.
 */
function readsPoolSize(config: Config): number {
  return config.databasePoolSize ?? (config.databaseUrl === undefined ? 1 : 10);
}

/** The pools of `url` as the config sizes them (src/db/pools.ts). */
function poolSettings(config: Config, url: string): PoolSettings {
  const size = readsPoolSize(config);
  return {
    url,
    entities: ENTITIES,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
    namedStatements: config.databaseUrl !== undefined,
    readsPoolSize: size,
    ingestPoolSize: config.databaseIngestPoolSize,
    primaryPoolSize: 2,
    statementTimeoutMs: config.graphqlStatementTimeoutMs,
    oneSession: size === 1,
  };
}

/** The composition root: builds every part from the config; nothing happens until start(). */
export function createApp(config: Config, options: AppOptions = {}): App {
  const logger = options.logger ?? createLogger(config.logLevel);
  const expressApp = express();
  /** Set once the webhook and GraphQL are mounted: they answer their plain requests before express (src/http/fast-path.ts). */
  const fastPaths: FastPath[] = [];
  const httpServer = http.createServer(
    {
      // Slow clients (a trickled body or headers) are cut off instead of holding a connection for minutes.
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      // Node checks those every 30 s by default, which would let a short timeout run 30 s late.
      connectionsCheckingInterval: Math.min(1000, config.httpHeadersTimeoutMs),
    },
    (req, res) => {
      if (!fastPaths.some((answered) => answered(req, res))) expressApp(req, res);
    },
  );
  httpServer.keepAliveTimeout = config.httpKeepAliveTimeoutMs;
  httpServer.maxConnections = config.httpMaxConnections;
  const tokens = new TokenVerifier(config.jwtSecret);
  const poolSize = readsPoolSize(config);
  const oneSession = poolSize === 1;
  const limits = callerLimits({
    perToken: config.graphqlRateLimit,
    perIp: config.graphqlIpRateLimit,
    concurrentPerToken: config.graphqlConcurrencyPerToken,
    // More operations at once than the reads have connections would only wait for one.
    concurrent: config.graphqlMaxConcurrent ?? (oneSession ? 4 : poolSize),
  });
  /** Set once connected; `dataSource` is its primary (migrations, jobs, readiness). */
  let pools: Pools | undefined;
  let dataSource: DataSource | undefined;
  let embedded: EmbeddedPostgres | undefined;
  let apollo: ApolloServer<Context> | undefined;
  let bus: ChangeBus | undefined;
  let subscriptions: SubscriptionServer | undefined;
  let spool: Spool | undefined;
  let drainer: SpoolDrainer | undefined;
  const retention = new RetentionJob({
    dataSource: () => dataSource,
    limits: { historyDays: config.historyRetentionDays, rawEventDays: config.rawEventRetentionDays },
    logger,
  });
  let silentVehicles: SilentVehicleCheck | undefined;
  /** Background attempts to reach a database that was down at start (only with a spool). */
  let reconnecting: Promise<void> | undefined;
  let state: "new" | "starting" | "started" | "stopping" | "stopped" = "new";

  // Read on each scrape, from what the parts keep anyway.
  const metrics = new Metrics({
    spoolDepth: () => spool?.depth ?? 0,
    databasePools: () => pools?.stats() ?? {},
    graphqlAdmission: () => limits.admission(),
    live: () => subscriptions?.live() ?? { sockets: 0, subscriptions: 0 },
  });

  expressApp.disable("x-powered-by");
  // First, so every request gets its line and its request id, whatever answers it.
  expressApp.use(requestLogs(logger));
  expressApp.use(securityHeaders());
  // /graphql is mounted here, its handlers added by start(): the most frequent requests pass no other router.
  // An app of its own, without express's ETag: a SHA-1 of every answer (50 kB for a page of 100 vehicles),
  // for GraphQL answers no client revalidates.
  const graphqlRoutes = express();
  graphqlRoutes.disable("x-powered-by");
  graphqlRoutes.set("etag", false);
  expressApp.use("/graphql", graphqlRoutes);
  // With a spool, readiness also says how deep it is: an operator watches it drain.
  expressApp.use(
    healthRouter(
      () => dataSource,
      () => (spool ? { spool: { depth: spool.depth, damagedBytes: spool.damagedBytes } } : {}),
    ),
  );
  // GET /fleet (before notFound(), mounted in start()): a static page that uses the public API like any app.
  if (config.fleetPage) expressApp.use(fleetPageRouter());
  expressApp.use(metricsRouter(metrics, config.metricsToken));

  async function connectDatabase(): Promise<Pools> {
    let url = config.databaseUrl;
    if (url === undefined) {
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, logger });
      url = embedded.url;
      logger.info({ dataDir: config.dataDir }, "database: embedded PostgreSQL (PGlite), no DATABASE_URL set");
    } else {
      logger.info({ database: describeDatabaseUrl(url) }, "database: PostgreSQL from DATABASE_URL");
    }
    return openPools(poolSettings(config, url), async (primary) => {
      if (config.migrateOnStart) {
        const ran = await primary.runMigrations({ transaction: "each" });
        if (ran.length > 0) logger.info({ migrations: ran.map((m) => m.name) }, "migrations applied");
      }
      await ensureHistoryPartitions(primary);
    });
  }

  /**
   * This month's and the coming months' history partitions, before any delivery is applied (the
   * retention job keeps them coming). A partition lock not granted in time (another instance's busy
   * ingestion) is not fatal: the months ahead already exist, and the job tries again.
   */
  async function ensureHistoryPartitions(ds: DataSource): Promise<void> {
    try {
      logEnsured(logger, await ensureMonths(ds));
    } catch (error) {
      if (!isLockNotAvailable(error)) throw error;
      logger.warn({ err: error }, "history: partitions not created now (lock busy); the retention job tries again");
    }
  }

  /** The database and what needs it; `pools` and `dataSource` are set only once all of it works. */
  async function connect(schema: GraphQLSchema): Promise<void> {
    const connected = await connectDatabase();
    try {
      await startSubscriptions(connected, schema);
    } catch (error) {
      await connected.destroy().catch(() => undefined);
      throw error;
    }
    pools = connected;
    dataSource = connected.primary;
  }

  /** With a spool, a database down at start does not stop the service: webhooks are spooled meanwhile. */
  async function keepConnecting(schema: GraphQLSchema): Promise<void> {
    while (state === "starting" || state === "started") {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (state !== "starting" && state !== "started") return;
      try {
        await connect(schema);
        logger.info("database reachable: serving GraphQL and draining the spool");
        return;
      } catch (error) {
        if (!isDatabaseUnavailable(error)) logger.error({ err: error }, "database connection failed; retrying");
      }
    }
  }

  function mountWebhooks(): void {
    // The bus exists whenever `dataSource` does (connect() sets it last), and ingestion needs both.
    const publisher: ChangePublisher = {
      publish: async (manager, events) => {
        if (!bus) throw new ServiceUnavailable();
        await bus.publish(manager, events);
        // Counted once committed: a batch rolled back (and retried) published nothing.
        afterCommit(manager, () => {
          for (const event of events) metrics.changePublished(event.kind);
        });
      },
    };
    const ingestion = new IngestionService(() => pools?.ingest, {
      applyTestDeliveries: config.applyTestDeliveries,
      publisher,
      silentVehicleCheck: config.silentVehicleFactor > 0,
      applyTimeoutMs: config.webhookApplyTimeoutMs,
      spool,
      logger,
      onBatch: (size) => metrics.batchApplied(size),
      // WEBHOOK_BATCHES_IN_FLIGHT (1): one batch at a time gathers twice the deliveries a transaction, which
      // costs less CPU a delivery on both sides (bench/RESULTS.md, "Ingestion, continued"); more only split the batches.
      // At least one connection of ingestion's pool is left to the spool's drain and the change bus.
      batching: {
        maxBatch: config.webhookBatchSize,
        maxWaiting: config.webhookQueueLimit,
        maxInFlight: Math.max(1, Math.min(config.webhookBatchesInFlight, (oneSession ? 1 : config.databaseIngestPoolSize) - 1)),
      },
    });
    if (spool) drainer = new SpoolDrainer({ spool, target: ingestion, logger });
    if (config.silentVehicleFactor > 0) {
      silentVehicles = new SilentVehicleCheck(() => dataSource, {
        factor: config.silentVehicleFactor,
        minIntervalSeconds: config.silentVehicleMinIntervalS,
        intervalMs: config.silentVehicleCheckIntervalS * 1000,
        publisher,
        logger,
      });
    }
    const webhook = { ingestion, managementTokens: config.managementTokens, bodyLimit: config.webhookBodyLimit, logger, metrics };
    expressApp.use(webhookRouter(webhook));
    fastPaths.push(webhookFastPath(webhook));
  }

  async function startGraphQL(): Promise<GraphQLSchema> {
    const schema = await buildAppSchema();
    apollo = new ApolloServer<Context>({
      schema,
      // No cache hints are used: without the cache-control plugin no hook runs per resolved field.
      // HTTP is drained by stop() (closeGracefully): Apollo's drain plugin would cut requests whose headers are not all in.
      plugins: [ApolloServerPluginCacheControlDisabled(), queryLimitsPlugin<Context>(), graphqlMetricsPlugin<Context>(metrics)],
      // Our own SIGTERM handler stops everything in order (Apollo's would race it and hang).
      stopOnTerminationSignals: false,
      formatError: createFormatError(logger),
      includeStacktraceInErrorResponses: false,
      // Decided by the config, not Apollo's own reading of NODE_ENV, so WebSocket (below) agrees.
      introspection: !config.production,
      // Second line behind documentLimits (which also bounds nesting, before the parser recurses).
      parseOptions: { maxTokens: MAX_TOKENS },
      // Off: Apollo keeps APQ hashes in each instance's memory, so behind a load balancer a hash registered on
      // one is unknown to the next. Clients get PERSISTED_QUERY_NOT_SUPPORTED and send the query (README).
      persistedQueries: false,
    });
    await apollo.start();
    const graphql = graphqlHttp({
      apollo,
      tokens,
      limits,
      // Without a database (the spool keeps ingestion going) a 503.
      context: (viewer) => {
        if (!pools) throw graphqlErrorOf(new ServiceUnavailable());
        return createContext({ viewer, dataSource: pools.reads, logger });
      },
      logger,
    });
    graphqlRoutes.use(...graphql.route);
    fastPaths.push(graphql.fastPath);
    return schema;
  }

  /** graphql-ws on the same server and path; the bus carries committed changes from every instance. */
  async function startSubscriptions(connected: Pools, schema: GraphQLSchema): Promise<ChangeBus> {
    const changes = await createChangeBus(connected.ingest, logger);
    const hub = new Hub(changes, connected.reads, { maxReplay: config.wsMaxReplayRows });
    await hub.start();
    bus = changes;
    subscriptions = startSubscriptionServer({
      httpServer,
      schema,
      tokens,
      limits,
      hub,
      logger,
      maxSubscriptionsPerSocket: config.wsMaxSubscriptionsPerSocket,
      introspection: !config.production,
      metrics,
      context: (input) => createContext({ ...input, dataSource: connected.reads, logger }),
    });
    return changes;
  }

  const app: App = {
    config,
    logger,
    httpServer,
    metrics,
    get dataSource(): DataSource {
      if (!dataSource) throw new Error("app not started");
      return dataSource;
    },
    get pools(): Pools {
      if (!pools) throw new Error("app not started");
      return pools;
    },
    get url(): string {
      const address = httpServer.address() as AddressInfo | null;
      if (!address) throw new Error("app not listening");
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      return `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${address.port}`;
    },
    async start() {
      if (state !== "new") throw new Error(`cannot start an app that is ${state}`);
      state = "starting";
      try {
        if (config.spoolDir !== undefined) spool = await Spool.open(config.spoolDir, logger);
        const schema = await startGraphQL();
        mountWebhooks();
        expressApp.use(notFound(), errorMiddleware(logger));
        try {
          await connect(schema);
        } catch (error) {
          if (!spool || config.databaseUrl === undefined || !isDatabaseUnavailable(error)) throw error;
          logger.warn({ err: error }, "database unreachable at start: webhooks go to the spool until it answers");
          reconnecting = keepConnecting(schema);
        }
        drainer?.start();
        retention.start();
        silentVehicles?.start();
        await new Promise<void>((resolve, reject) => {
          httpServer.once("error", reject);
          httpServer.listen(config.port, config.host, () => {
            httpServer.off("error", reject);
            resolve();
          });
        });
      } catch (error) {
        await app.stop();
        throw error;
      }
      state = "started";
      if (tokens.open) logger.warn("JWT_SECRET is not set: the GraphQL API is OPEN to anyone (development only)");
      if (config.managementTokens.length === 0) {
        logger.warn("SMARTCAR_MANAGEMENT_TOKEN is not set: webhook deliveries are accepted UNSIGNED (development only)");
      }
      logger.info({ url: app.url }, "fleetgraph listening");
    },
    async stop() {
      if (state === "stopping" || state === "stopped") return;
      state = "stopping";
      // Subscribers first: committed events still in flight are sent, then sockets close with 1001
      // (Apollo's HTTP drain would cut upgraded sockets without a close frame).
      await subscriptions?.close();
      // Stop accepting, answer every request already begun, then close.
      await closeGracefully(httpServer);
      if (apollo) await apollo.stop();
      await reconnecting;
      // After the HTTP drain: nothing appends any more; the batch being drained finishes.
      await drainer?.stop();
      await retention.stop();
      await silentVehicles?.stop();
      await bus?.stop();
      limits.stop();
      await pools?.destroy();
      await spool?.close();
      await embedded?.stop();
      state = "stopped";
    },
  };
  return app;
}
