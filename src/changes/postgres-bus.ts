import { randomUUID } from "node:crypto";
import { Client, type Notification } from "pg";
import type { DataSource, EntityManager } from "typeorm";
import { withDeadline } from "../deadline";
import type { Logger } from "../logger";
import type { BusMessage, Change, ChangeBus, IssueState } from "./change";
import { decodePayload, encodeChanges, encodeFlush, isRef, type ChangeRef } from "./wire-format";

export interface PostgresChangeBusOptions {
  /** Connection string of the database the app writes to (NOTIFY is per database). */
  readonly url: string;
  /** The app's pool: resolves payloads too long to inline and sends flush markers. */
  readonly dataSource: DataSource;
  readonly logger: Logger;
  /** @default "fleetgraph_changes" */
  readonly channel?: string;
  /** How often the listening connection is checked, so a silently dead one is noticed. @default 15_000 */
  readonly healthCheckMs?: number;
}

/**
 * Smartcar waits at most 15 s for an answer, so no applying transaction that matters started longer
 * ago than that: replaying this far back before a gap catches every change committed during it.
 */
const GAP_MARGIN_MS = 15_000;
const FLUSH_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 5_000;

/**
 * PostgreSQL LISTEN/NOTIFY. `publish` sends `pg_notify` through the applying transaction, which
 * PostgreSQL delivers only on commit, in commit order, to every instance listening on the same
 * database. Each instance keeps one dedicated connection for LISTEN and reconnects it when it fails,
 * then tells its subscribers to catch up from the database (`gap`).
 */
export class PostgresChangeBus implements ChangeBus {
  private readonly channel: string;
  private deliver: (message: BusMessage) => void = () => {};
  private client: Client | undefined;
  private stopped = false;
  private reconnectDelay = 100;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  /** When the listening connection last proved alive; a gap starts no earlier. */
  private aliveAt = Date.now();
  /** Payloads are handled one after another, so changes keep commit order even when one needs a lookup. */
  private chain: Promise<void> = Promise.resolve();
  private readonly flushes = new Map<string, () => void>();

  constructor(private readonly options: PostgresChangeBusOptions) {
    this.channel = options.channel ?? "fleetgraph_changes";
  }

  async publish(manager: EntityManager, changes: readonly Change[]): Promise<void> {
    // One round trip for a whole group-commit batch, however many payloads its changes fill.
    const payloads = encodeChanges(changes);
    if (payloads.length === 0) return;
    await manager.query("SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n", [
      this.channel,
      payloads,
    ]);
  }

  async start(deliver: (message: BusMessage) => void): Promise<void> {
    this.deliver = deliver;
    await this.connect();
    this.healthTimer = setInterval(() => void this.checkHealth(), this.options.healthCheckMs ?? 15_000);
    this.healthTimer.unref();
  }

  async flush(): Promise<void> {
    if (!this.client) return;
    const nonce = randomUUID();
    const arrived = new Promise<void>((resolve) => this.flushes.set(nonce, resolve));
    try {
      await this.options.dataSource.query("SELECT pg_notify($1, $2)", [this.channel, encodeFlush(nonce)]);
      await withDeadline(arrived, FLUSH_TIMEOUT_MS, () => new Error("change bus flush timed out"));
    } catch (error) {
      // No database, nothing can commit: there is nothing in flight to wait for.
      this.options.logger.warn({ err: error }, "change bus flush failed");
    } finally {
      this.flushes.delete(nonce);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.healthTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
    await this.chain;
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.url, keepAlive: true, application_name: "fleetgraph-listen" });
    client.on("notification", (message: Notification) => {
      this.aliveAt = Date.now();
      this.chain = this.chain.then(() => this.handle(message.payload)).catch((error: unknown) => {
        this.options.logger.error({ err: error }, "change notification could not be handled");
      });
    });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, undefined));
    try {
      await client.connect();
      // Identifiers cannot be bound parameters; the channel is our own constant, quoted anyway.
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    this.aliveAt = Date.now();
  }

  private lost(client: Client, error: unknown): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    this.options.logger.warn({ err: error }, "change bus connection lost; reconnecting");
    client.end().catch(() => undefined);
    this.scheduleReconnect(this.aliveAt);
  }

  private scheduleReconnect(lastAlive: number): void {
    this.reconnectTimer = setTimeout(async () => {
      if (this.stopped) return;
      try {
        await this.connect();
        if (this.stopped) return;
        this.reconnectDelay = 100;
        this.options.logger.info("change bus reconnected");
        this.deliver({ kind: "gap", since: new Date(lastAlive - GAP_MARGIN_MS) });
      } catch (error) {
        this.options.logger.warn({ err: error }, "change bus reconnect failed");
        this.reconnectDelay = Math.min(this.reconnectDelay * 2, MAX_RECONNECT_DELAY_MS);
        this.scheduleReconnect(lastAlive);
      }
    }, this.reconnectDelay);
  }

  /** A connection can die without an error (a dropped network path): ask it something now and then. */
  private async checkHealth(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      await withDeadline(client.query("SELECT 1"), 5_000, () => new Error("health check timed out"));
      this.aliveAt = Date.now();
    } catch (error) {
      this.lost(client, error);
    }
  }

  private async handle(payload: string | undefined): Promise<void> {
    const decoded = decodePayload(payload);
    if (!decoded) {
      this.options.logger.warn("ignored a notification that is not ours");
      return;
    }
    if (decoded.kind === "flush") {
      this.flushes.get(decoded.nonce)?.();
      return;
    }
    const items = decoded.items.some(isRef) ? await this.resolveRefs(decoded.items) : (decoded.items as Change[]);
    for (const change of items) this.deliver(change);
  }

  private async resolveRefs(items: ReadonlyArray<Change | ChangeRef>): Promise<Change[]> {
    const ds = this.options.dataSource;
    const readingIds = items.flatMap((item) => (isRef(item) && item.kind === "signal" ? [item.readingId] : []));
    const changeIds = items.flatMap((item) => (isRef(item) && item.kind === "issue" ? [item.changeId] : []));
    const readings: Array<{ id: string; vehicle_id: string; user_id: string | null; code: string }> = readingIds.length
      ? await ds.query(
          `SELECT r.id, r.vehicle_id, r.user_id, r.code FROM signal_readings r WHERE r.id = ANY($1::bigint[])`,
          [readingIds],
        )
      : [];
    const changes: Array<{ id: string; issue_id: string; vehicle_id: string | null; user_id: string | null; state: IssueState }> =
      changeIds.length
        ? await ds.query(`SELECT id, issue_id, vehicle_id, user_id, state FROM vehicle_issue_changes WHERE id = ANY($1::bigint[])`, [
            changeIds,
          ])
        : [];
    const readingById = new Map(readings.map((row) => [String(row.id), row]));
    const changeById = new Map(changes.map((row) => [String(row.id), row]));
    return items.flatMap((item): Change[] => {
      if (!isRef(item)) return [item];
      if (item.kind === "signal") {
        const row = readingById.get(item.readingId);
        return row ? [{ kind: "signal", vehicleId: row.vehicle_id, userId: row.user_id, code: row.code, readingId: item.readingId }] : [];
      }
      const row = changeById.get(item.changeId);
      return row
        ? [{ kind: "issue", issueId: row.issue_id, vehicleId: row.vehicle_id, userId: row.user_id, state: row.state, changeId: item.changeId }]
        : [];
    });
  }
}
