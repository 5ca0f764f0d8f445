import type { DataSource } from "typeorm";
import { createDataSource, type DataSourceSettings } from "./data-source";

/**
 * The service's connections, one pool for each kind of work, so that no kind can take every connection
 * from another: a reader holding all of its pool's connections leaves ingestion's untouched, and
 * Smartcar, which drops an event for good after a few minutes of failed deliveries, never waits behind it.
 */
export interface Pools {
  /** Migrations, periodic jobs (retention, silent vehicles), readiness. */
  readonly primary: DataSource;
  /** Webhook deliveries, the spool's drain and the change bus. */
  readonly ingest: DataSource;
  /** GraphQL over HTTP and WebSocket, subscription replays: each statement bounded by `statementTimeoutMs`. */
  readonly reads: DataSource;
  /** Pool sizes and waiters by pool, for the metrics (one entry when the database is one session). */
  stats(): Record<string, PoolStats>;
  destroy(): Promise<void>;
}

export interface PoolSettings extends Omit<DataSourceSettings, "poolSize"> {
  /** Connections for reads (and, on a one-session database, for everything). */
  readsPoolSize: number;
  ingestPoolSize: number;
  /** Connections of migrations and jobs. */
  primaryPoolSize: number;
  /** PostgreSQL cancels a read statement running longer (its own `statement_timeout`); 0: never. */
  statementTimeoutMs: number;
  /**
   * One connection for everything: the embedded PGlite is one session (its socket server interleaves
   * the messages of concurrent connections), so the kinds of work take turns on it.
   */
  oneSession: boolean;
}

type PgPool = { totalCount: number; idleCount: number; waitingCount: number };
export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** Connects the pools, the primary first (it runs the migrations: call `migrate` before the others connect). */
export async function openPools(settings: PoolSettings, migrate: (primary: DataSource) => Promise<void>): Promise<Pools> {
  const { readsPoolSize, ingestPoolSize, primaryPoolSize, statementTimeoutMs, oneSession, ...common } = settings;
  const primary = createDataSource({ ...common, poolSize: oneSession ? readsPoolSize : primaryPoolSize });
  const opened: DataSource[] = [];
  const open = async (dataSource: DataSource) => {
    await dataSource.initialize();
    opened.push(dataSource);
    return dataSource;
  };
  try {
    await open(primary);
    await migrate(primary);
    if (oneSession) return poolsOf({ primary, ingest: primary, reads: primary }, opened);
    const ingest = await open(createDataSource({ ...common, poolSize: ingestPoolSize }));
    const reads = await open(createDataSource({ ...common, poolSize: readsPoolSize, statementTimeoutMs }));
    return poolsOf({ primary, ingest, reads }, opened);
  } catch (error) {
    await Promise.all(opened.map((dataSource) => dataSource.destroy().catch(() => undefined)));
    throw error;
  }
}

function poolsOf(roles: Pick<Pools, "primary" | "ingest" | "reads">, opened: readonly DataSource[]): Pools {
  const statsOf = (dataSource: DataSource) => {
    // TypeORM keeps pg's pool as its driver's `master`.
    const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
    return { total: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0, waiting: pool?.waitingCount ?? 0 };
  };
  return {
    ...roles,
    stats: (): Record<string, PoolStats> =>
      opened.length === 1
        ? { shared: statsOf(roles.primary) }
        : { primary: statsOf(roles.primary), ingest: statsOf(roles.ingest), reads: statsOf(roles.reads) },
    async destroy() {
      await Promise.all(opened.filter((dataSource) => dataSource.isInitialized).map((dataSource) => dataSource.destroy()));
    },
  };
}
