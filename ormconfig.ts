import "reflect-metadata";
import { createDataSource } from "./src/db/data-source";
import { ENTITIES } from "./src/entities";

/**
 * The DataSource the TypeORM CLI uses (`npm run migration:*`). It needs DATABASE_URL; to work on the
 * embedded database instead, wrap the command: `npm run db:embedded -- npm run migration:show`.
 */
if (!process.env.DATABASE_URL) {
  throw new Error("DATABASE_URL is not set (or wrap the command with `npm run db:embedded --`)");
}

export const dataSource = createDataSource({ url: process.env.DATABASE_URL, poolSize: 2, entities: ENTITIES });
