import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../logger";
import { lockDir, type DirLock as SpoolLock } from "../db/dir-lock";
import { openPrivateFile, preparePrivateDir } from "../db/private-dir";
import { encodeRecord, scanRecords, type ScanItem, type SpooledDelivery } from "./spool-record";

const RECORDS_FILE = "deliveries.spool";
/** How far the drain has applied, as a decimal byte offset into the records file. */
const DRAINED_FILE = "deliveries.drained";
const READ_CHUNK_BYTES = 1024 * 1024;

export interface SpoolBatch {
  readonly entries: SpooledDelivery[];
  /** Offset just past the batch: ack(end) once it is applied. */
  readonly end: number;
}

/**
 * The durable spool in SPOOL_DIR: an append-only file of verified deliveries waiting for the database.
 * One writer (appends and drain bookkeeping run one at a time), each append fsynced before it counts;
 * the drained offset is saved after every applied batch, so a crash replays at most one batch, which
 * the idempotent apply (by eventId) turns into duplicates. When everything is drained the file is
 * emptied, so it does not grow across outages. The folder and its files are private to the service's
 * user (0700, 0600): they hold raw deliveries (user ids, locations).
 */
export class Spool {
  /** Records appended and not yet drained. */
  depth = 0;
  /** Damaged bytes skipped since start (a torn tail after a crash, or corruption). */
  damagedBytes = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Damage before this offset was reported already (the drain meets what recovery counted). */
  private reportedUpTo = 0;
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly dir: string,
    private readonly file: fs.FileHandle,
    private readonly lock: SpoolLock,
    private readonly logger: Logger,
    /** Bytes written and fsynced. */
    private size: number,
    private drained: number,
  ) {}

  static async open(dir: string, logger: Logger): Promise<Spool> {
    await preparePrivateDir(dir, { variable: "SPOOL_DIR", logger });
    const lock = await lockDir(dir, { variable: "SPOOL_DIR", file: "spool.lock" });
    try {
      const file = await openPrivateFile(path.join(dir, RECORDS_FILE), "a+");
      await syncDir(dir);
      const size = (await file.stat()).size;
      const drained = await readDrained(dir);
      // Larger than the file: the file was emptied after a full drain and the offset not yet removed.
      const spool = new Spool(dir, file, lock, logger, size, drained <= size ? drained : 0);
      await spool.recover();
      return spool;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Wakes `listener` after each append. */
  onAppend(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Appends and fsyncs; resolves only once the delivery is durable. A failed append leaves the file as it was. */
  append(entry: SpooledDelivery): Promise<void> {
    return this.serially(async () => {
      const bytes = encodeRecord(entry);
      try {
        for (let written = 0; written < bytes.length; ) {
          written += (await this.file.write(bytes, written, bytes.length - written, null)).bytesWritten;
        }
        await this.file.datasync();
      } catch (error) {
        await this.file.truncate(this.size).catch(() => undefined);
        throw error;
      }
      this.size += bytes.length;
      this.depth++;
      for (const listener of this.listeners) listener();
    });
  }

  /** The oldest undrained records, in order (at most `maxRecords`); damage on the way is reported and skipped. */
  async readBatch(maxRecords: number): Promise<SpoolBatch> {
    const entries: SpooledDelivery[] = [];
    const end = await this.scan(this.drained, this.size, (item) => {
      if (item.kind === "record") entries.push(item.entry);
      return entries.length < maxRecords;
    });
    return { entries, end };
  }

  /** The records read up to `end` are applied: remember it durably, and empty the file once all are. */
  ack(end: number, records: number): Promise<void> {
    return this.serially(async () => {
      this.drained = end;
      this.depth = Math.max(0, this.depth - records);
      if (this.drained >= this.size) {
        // Offset first: a crash in between replays everything (harmless duplicates), never skips anything.
        await fs.rm(path.join(this.dir, DRAINED_FILE), { force: true });
        await syncDir(this.dir);
        await this.file.truncate(0);
        await this.file.datasync();
        this.size = 0;
        this.drained = 0;
        this.depth = 0;
        this.reportedUpTo = 0;
      } else {
        await writeDurably(this.dir, DRAINED_FILE, String(end));
      }
    });
  }

  async close(): Promise<void> {
    await this.serially(async () => undefined);
    await this.file.close();
    await this.lock.release();
  }

  /** Counts what is left to drain; a torn tail (a crash mid-append: never acknowledged) is cut off. */
  private async recover(): Promise<void> {
    let lastRecordEnd = this.drained;
    await this.scan(this.drained, this.size, (item) => {
      if (item.kind === "record") {
        this.depth++;
        lastRecordEnd = item.end;
      }
      return true;
    });
    if (lastRecordEnd < this.size) {
      this.logger.warn({ bytes: this.size - lastRecordEnd, offset: lastRecordEnd }, "spool: torn tail removed");
      await this.file.truncate(lastRecordEnd);
      await this.file.datasync();
      this.size = lastRecordEnd;
    }
    if (this.depth > 0) this.logger.info({ depth: this.depth }, "spool: deliveries waiting to be drained");
  }

  /**
   * Visits the items in [from, to) in order until `visit` returns false; returns the offset after the
   * last item visited. Damaged ranges are logged and counted, never visited.
   */
  private async scan(from: number, to: number, visit: (item: ScanItem & { end: number }) => boolean): Promise<number> {
    let offset = from;
    let chunk = READ_CHUNK_BYTES;
    while (offset < to) {
      const length = Math.min(chunk, to - offset);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await this.file.read(buffer, 0, length, offset);
      const atEnd = offset + bytesRead >= to;
      const { items, consumed } = scanRecords(buffer.subarray(0, bytesRead), atEnd);
      if (consumed === 0 && !atEnd) {
        chunk *= 2; // a record larger than the chunk
        continue;
      }
      for (const item of items) {
        const absolute = { ...item, start: offset + item.start, end: offset + item.end };
        if (item.kind === "damaged") {
          if (absolute.start >= this.reportedUpTo) {
            this.damagedBytes += item.end - item.start;
            this.reportedUpTo = absolute.end;
            this.logger.warn({ offset: absolute.start, bytes: item.end - item.start }, "spool: damaged bytes skipped");
          }
          continue;
        }
        if (!visit(absolute)) return absolute.end;
      }
      offset += consumed;
      chunk = READ_CHUNK_BYTES;
    }
    return offset;
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

async function readDrained(dir: string): Promise<number> {
  try {
    const value = Number((await fs.readFile(path.join(dir, DRAINED_FILE), "utf8")).trim());
    return Number.isSafeInteger(value) && value >= 0 ? value : 0;
  } catch {
    return 0;
  }
}

async function writeDurably(dir: string, name: string, text: string): Promise<void> {
  const temp = path.join(dir, `${name}.tmp`);
  const handle = await openPrivateFile(temp, "w");
  try {
    await handle.writeFile(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, path.join(dir, name));
  await syncDir(dir);
}

/** Makes a file's creation, rename or removal durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
