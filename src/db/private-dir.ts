import fs from "node:fs/promises";
import type { Logger } from "../logger";

/** Only the service's own user reads or writes what it keeps on disk (raw deliveries, the embedded database). */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export class UnsafeDirectoryError extends Error {
  override name = "UnsafeDirectoryError";
}

export interface PrivateDirOptions {
  /** The setting that names the folder, for the error (`SPOOL_DIR`, `DATA_DIR`). */
  readonly variable: string;
  /** Told when a folder that others could read is made private. */
  readonly logger?: Pick<Logger, "warn">;
}

/**
 * Creates `dir` (and missing parents) as a folder only its owner can enter, whatever the umask (which
 * masks mkdir's mode: the mode is set again explicitly). A folder that other users can write is refused:
 * they could have planted or changed files in it, and making it private now would not undo that. A
 * folder they can only read (made by an older version, or by hand) is made private, with a log line.
 */
export async function preparePrivateDir(dir: string, options: PrivateDirOptions): Promise<void> {
  const { variable, logger } = options;
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
  // Modes mean nothing there; the folder's ACL decides.
  if (process.platform === "win32") return;
  const mode = (await fs.stat(dir)).mode & 0o777;
  if (mode & 0o022) {
    throw new UnsafeDirectoryError(
      `${variable} ${dir} can be written by other users (mode ${octal(mode)}); check what is in it, then run \`chmod 700 ${dir}\`, or choose another ${variable}`,
    );
  }
  if (mode === DIR_MODE) return;
  try {
    await fs.chmod(dir, DIR_MODE);
  } catch (error) {
    throw new UnsafeDirectoryError(
      `${variable} ${dir} has mode ${octal(mode)} and cannot be made private (${(error as NodeJS.ErrnoException).code}): run \`chmod 700 ${dir}\` as its owner, or choose another ${variable}`,
    );
  }
  if (mode & 0o077) logger?.warn({ dir, was: octal(mode), now: octal(DIR_MODE) }, `${variable}: folder made private`);
}

/**
 * Opens `file` with `flags`, creating it readable and writable by its owner only, whatever the umask; an
 * existing file (an older version's) is made so too.
 */
export async function openPrivateFile(file: string, flags: string): Promise<fs.FileHandle> {
  const handle = await fs.open(file, flags, FILE_MODE);
  try {
    if (process.platform !== "win32") await handle.chmod(FILE_MODE);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}
