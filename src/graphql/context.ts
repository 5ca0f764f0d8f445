import type { DataSource } from "typeorm";
import type { Viewer } from "../auth/viewer";
import type { Logger } from "../logger";

/** Per-operation GraphQL context, built for each HTTP request and each subscription. */
export interface Context {
  readonly viewer: Viewer;
  readonly dataSource: DataSource;
  readonly logger: Logger;
}
