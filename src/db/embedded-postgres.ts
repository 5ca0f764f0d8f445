import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import type { Logger } from "../logger";
import { lockDir, type DirLock } from "./dir-lock";
import { preparePrivateDir } from "./private-dir";

export interface EmbeddedPostgres {
  /** postgres:// URL of the socket server, for the ordinary `pg` driver. */
  readonly url: string;
  /** The whole data directory as a tar archive, to start copies from (`load`). */
  dump(): Promise<Blob>;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Folder of a persistent database; undefined keeps the database in memory. */
  readonly dataDir?: string;
  /** An in-memory database starts as a copy of this dump (much faster than a fresh initdb). */
  readonly load?: Blob;
  /** Told when an existing data folder that others could read is made private. */
  readonly logger?: Pick<Logger, "warn">;
}

/**
 * Starts PGlite (PostgreSQL compiled to WebAssembly) behind a PostgreSQL wire-protocol socket, so the
 * app talks to it through the same `pg` driver as to a real server. Always binds port 0: a fixed
 * port could silently reach another server.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const { dataDir, load, logger } = options;
  let lock: DirLock | undefined;
  if (dataDir !== undefined) {
    // PGlite creates its files and folders with the default modes (0666/0777 less the umask), which we
    // cannot set without changing the whole process's umask: the data folder at 0700 is what keeps
    // other users out of them.
    await preparePrivateDir(dataDir, { variable: "DATA_DIR", logger });
    // PGlite is one process: a second one (another `npm start`, `npm run db:embedded`) would corrupt the folder.
    lock = await lockDir(dataDir, { variable: "DATA_DIR", file: "fleetgraph.lock" });
  }
  let db: PGlite | undefined;
  let server: PGLiteSocketServer;
  try {
    db = await PGlite.create({ ...(dataDir === undefined ? {} : { dataDir }), ...(load ? { loadDataDir: load } : {}) });
    // pg's pool opens several connections; PGlite serialises their queries one transaction at a time.
    server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 20 });
    await server.start();
  } catch (error) {
    await db?.close().catch(() => undefined);
    await lock?.release();
    throw error;
  }
  const started = db;
  const url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  return {
    url,
    dump: () => started.dumpDataDir("none"),
    async stop() {
      await server.stop();
      await started.close();
      await lock?.release();
    },
  };
}
