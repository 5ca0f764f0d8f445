import type { DataSource } from "typeorm";
import type { Logger } from "../logger";
import type { ChangeBus } from "./bus";
import { LocalChangeBus } from "./local-bus";
import { PostgresChangeBus } from "./postgres-bus";

/**
 * LISTEN/NOTIFY when the database is a real PostgreSQL server; the in-process bus when it is the
 * embedded PGlite (also when reached through DATABASE_URL, as the tests do), which cannot deliver
 * NOTIFY to another connection.
 */
export async function createChangeBus(dataSource: DataSource, logger: Logger): Promise<ChangeBus> {
  const [{ version }]: Array<{ version: string }> = await dataSource.query("SELECT version()");
  const { url } = dataSource.options as { url?: string };
  if (/PGlite/i.test(version) || url === undefined) {
    logger.info("subscriptions: in-process change bus (embedded PostgreSQL is a single process)");
    return new LocalChangeBus(logger);
  }
  logger.info("subscriptions: PostgreSQL LISTEN/NOTIFY change bus");
  return new PostgresChangeBus({ url, dataSource, logger });
}
