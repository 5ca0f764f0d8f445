import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openPrivateFile } from "./private-dir";

/** The owner rewrites its lock's time this often; a lock not touched for STALE_MS is left by a dead owner. */
const HEARTBEAT_MS = 5_000;
const STALE_MS = 30_000;

/** Lock files held by this process (a second app in the same process must be refused too). */
const lockedHere = new Set<string>();

export class DirectoryInUseError extends Error {
  override name = "DirectoryInUseError";
}

interface LockOwner {
  pid: number;
  hostname: string;
  token: string;
}

export interface DirLock {
  release(): Promise<void>;
}

export interface DirLockOptions {
  /** The setting that names the folder, for the error (`SPOOL_DIR`, `DATA_DIR`). */
  readonly variable: string;
  /** The lock file's name inside the folder. */
  readonly file: string;
}

/**
 * One process per folder: two spool writers would interleave records and both drain them; two
 * embedded databases on one DATA_DIR corrupt it. The lock file names its owner; it is taken over when
 * its owner is gone: the same host and a process that no longer exists (or our own pid: a restarted
 * container), or any host once the owner stopped touching it.
 */
export async function lockDir(dir: string, options: DirLockOptions): Promise<DirLock> {
  const { variable } = options;
  const lockPath = path.join(dir, options.file);
  if (lockedHere.has(lockPath)) throw new DirectoryInUseError(`${variable} is already in use by this process (${dir})`);
  const owner: LockOwner = { pid: process.pid, hostname: os.hostname(), token: randomUUID() };
  if (!(await create(lockPath, owner))) {
    const current = await readOwner(lockPath);
    if (current && !(await isStale(lockPath, current.owner, current.mtimeMs))) {
      throw new DirectoryInUseError(
        `${variable} is in use by process ${current.owner.pid} on ${current.owner.hostname} (${dir}): one process at a time; stop it, or choose another ${variable}`,
      );
    }
    await fs.rm(lockPath, { force: true });
    if (!(await create(lockPath, owner))) throw new DirectoryInUseError(`${variable} is being locked by another process (${dir})`);
  }
  lockedHere.add(lockPath);
  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.utimes(lockPath, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    async release() {
      clearInterval(heartbeat);
      lockedHere.delete(lockPath);
      const current = await readOwner(lockPath);
      if (current?.owner.token === owner.token) await fs.rm(lockPath, { force: true });
    },
  };
}

/** Creates the lock whole or not at all: written aside, then linked into place (link fails if it exists). */
async function create(lockPath: string, owner: LockOwner): Promise<boolean> {
  const temp = `${lockPath}.${owner.token}`;
  const handle = await openPrivateFile(temp, "wx");
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close();
  }
  try {
    await fs.link(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

async function readOwner(lockPath: string): Promise<{ owner: LockOwner; mtimeMs: number } | undefined> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(lockPath, "utf8"), fs.stat(lockPath)]);
    return { owner: JSON.parse(text) as LockOwner, mtimeMs: stat.mtimeMs };
  } catch {
    return undefined;
  }
}

async function isStale(lockPath: string, owner: LockOwner, mtimeMs: number): Promise<boolean> {
  if (Date.now() - mtimeMs > STALE_MS) return true;
  if (owner.hostname !== os.hostname()) return false;
  if (owner.pid === process.pid) return !lockedHere.has(lockPath);
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
