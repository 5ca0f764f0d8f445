import "reflect-metadata";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { GraphQLError, type GraphQLSchema } from "graphql";
import type { DataSource } from "typeorm";
import { TokenVerifier } from "./auth/viewer";
import type { Config } from "./config";
import { createDataSource } from "./db/data-source";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./db/embedded-postgres";
import { AppError } from "./errors";
import { createContext, type Context } from "./graphql/context";
import { createFormatError } from "./graphql/format-error";
import { queryLimitsPlugin } from "./graphql/query-limits";
import { buildAppSchema } from "./graphql/schema";
import { errorMiddleware, notFound } from "./http/error-middleware";
import { healthRouter } from "./http/health.router";
import { securityHeaders } from "./http/security-headers";
import { createLogger, describeDatabaseUrl, type Logger } from "./logger";
import type { ChangeBus } from "./subscriptions/change-bus";
import type { ChangePublisher } from "./subscriptions/change-events";
import { ChangeFeed } from "./subscriptions/change-feed";
import { createChangeBus } from "./subscriptions/create-change-bus";
import { startSubscriptionServer, type SubscriptionServer } from "./subscriptions/ws-server";
import { IngestionService } from "./webhooks/ingestion.service";
import { webhookRouter } from "./webhooks/webhook.router";

export interface AppOptions {
  logger?: Logger;
}

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly httpServer: http.Server;
  /** Available after start(). */
  readonly dataSource: DataSource;
  /** `http://host:port` once listening (the real port when PORT=0). */
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The composition root: builds every part from the config; nothing happens until start(). */
export function createApp(config: Config, options: AppOptions = {}): App {
  const logger = options.logger ?? createLogger(config.logLevel);
  const expressApp = express();
  const httpServer = http.createServer(expressApp);
  const tokens = new TokenVerifier(config.jwtSecret);
  let dataSource: DataSource | undefined;
  let embedded: EmbeddedPostgres | undefined;
  let apollo: ApolloServer<Context> | undefined;
  let bus: ChangeBus | undefined;
  let subscriptions: SubscriptionServer | undefined;
  let state: "new" | "starting" | "started" | "stopping" | "stopped" = "new";

  expressApp.disable("x-powered-by");
  expressApp.use(securityHeaders());
  expressApp.use(healthRouter(() => dataSource));

  async function connectDatabase(): Promise<DataSource> {
    let url = config.databaseUrl;
    if (url === undefined) {
      embedded = await startEmbeddedPostgres(config.dataDir);
      url = embedded.url;
      logger.info({ dataDir: config.dataDir }, "database: embedded PostgreSQL (PGlite), no DATABASE_URL set");
    } else {
      logger.info({ database: describeDatabaseUrl(url) }, "database: PostgreSQL from DATABASE_URL");
    }
    const ds = createDataSource({ url, poolSize: embedded ? 4 : 10 });
    await ds.initialize();
    if (config.migrateOnStart) {
      const ran = await ds.runMigrations({ transaction: "each" });
      if (ran.length > 0) logger.info({ migrations: ran.map((m) => m.name) }, "migrations applied");
    }
    return ds;
  }

  function mountWebhooks(ds: DataSource, publisher: ChangePublisher): void {
    const ingestion = new IngestionService(ds, { applyTestDeliveries: config.applyTestDeliveries, publisher });
    expressApp.use(
      webhookRouter({ ingestion, managementTokens: config.managementTokens, bodyLimit: config.webhookBodyLimit, logger }),
    );
  }

  async function startGraphQL(ds: DataSource): Promise<GraphQLSchema> {
    const schema = await buildAppSchema();
    apollo = new ApolloServer<Context>({
      schema,
      // No cache hints are used: without the cache-control plugin no hook runs per resolved field.
      plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginCacheControlDisabled(), queryLimitsPlugin<Context>()],
      // Our own SIGTERM handler stops everything in order (Apollo's would race it and hang).
      stopOnTerminationSignals: false,
      formatError: createFormatError(logger),
      includeStacktraceInErrorResponses: false,
    });
    await apollo.start();
    expressApp.use(
      "/graphql",
      express.json({ limit: "1mb" }),
      expressMiddleware(apollo, {
        context: async ({ req }) => {
          try {
            return createContext({ viewer: await tokens.verify(req.headers.authorization), dataSource: ds, logger });
          } catch (error) {
            if (error instanceof AppError) {
              throw new GraphQLError(error.message, { extensions: { code: error.code, http: { status: error.status } } });
            }
            throw error;
          }
        },
      }),
    );
    return schema;
  }

  /** graphql-ws on the same server and path; the bus carries committed changes from every instance. */
  async function startSubscriptions(ds: DataSource, schema: GraphQLSchema): Promise<ChangeBus> {
    const changes = await createChangeBus(ds, logger);
    bus = changes;
    await changes.start();
    subscriptions = startSubscriptionServer({
      httpServer,
      schema,
      tokens,
      feed: new ChangeFeed(changes, ds),
      logger,
      context: (input) => createContext({ ...input, dataSource: ds, logger }),
    });
    return changes;
  }

  const app: App = {
    config,
    logger,
    httpServer,
    get dataSource(): DataSource {
      if (!dataSource) throw new Error("app not started");
      return dataSource;
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
        dataSource = await connectDatabase();
        const schema = await startGraphQL(dataSource);
        mountWebhooks(dataSource, await startSubscriptions(dataSource, schema));
        expressApp.use(notFound(), errorMiddleware(logger));
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
      // Apollo's drain plugin stops accepting requests and waits for in-flight ones.
      if (apollo) await apollo.stop();
      else if (httpServer.listening) await new Promise((resolve) => httpServer.close(resolve));
      await bus?.stop();
      if (dataSource?.isInitialized) await dataSource.destroy();
      await embedded?.stop();
      state = "stopped";
    },
  };
  return app;
}
