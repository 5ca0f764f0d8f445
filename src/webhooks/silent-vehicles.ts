import type { DataSource, EntityManager } from "typeorm";
import type { ChangePublisher } from "../changes/change";
import { applyIssueReports, type IssueReport, type IssueReportToApply } from "../issues/apply-issues";
import type { Logger } from "../logger";

/** The synthetic issue type of a vehicle that stopped sending deliveries: fleetgraph's own, not Smartcar's. */
export const NO_DATA = "NO_DATA";
/** Its code: one NO_DATA issue per vehicle and user. */
export const SILENT = "SILENT";

export interface SilentVehicleOptions {
  /** SILENT_VEHICLE_FACTOR: silent past this many times the vehicle's usual interval between deliveries. */
  readonly factor: number;
  /** SILENT_VEHICLE_MIN_INTERVAL_S: the usual interval is taken as at least this, seconds. */
  readonly minIntervalSeconds: number;
  readonly publisher: ChangePublisher;
}

/** Deliveries whose gaps make a vehicle's usual interval (their median). */
const RECENT_DELIVERIES = 21;
/** One key for every instance: only one of them checks at a time. */
const ADVISORY_LOCK_KEY = 7_340_110_011;

/**
 * Opens a NO_DATA issue for each vehicle silent for longer than `factor` times its usual delivery
 * interval (the median gap between its recent deliveries, at least the minimum), through the issues'
 * apply step, so the change log and subscribers see it like any issue. Its next delivery resolves it
 * (applyDeliveries). Returns the number of issues opened; 0 when another instance holds the check.
 */
export async function openSilentVehicleIssues(dataSource: DataSource, options: SilentVehicleOptions): Promise<number> {
  return dataSource.transaction(async (manager) => {
    const [{ locked }]: Array<{ locked: boolean }> = await manager.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [ADVISORY_LOCK_KEY]);
    if (!locked) return 0;
    const silent = await silentVehicles(manager, options);
    if (silent.length === 0) return 0;
    const reportedAt = new Date();
    const reports: IssueReportToApply[] = silent.map((vehicle) => ({
      vehicleId: vehicle.id,
      userId: vehicle.user_id,
      eventId: `${NO_DATA}:${vehicle.id}:${reportedAt.toISOString()}`,
      reportedAt,
      report: silentReport(vehicle.silent_s, vehicle.usual_s),
    }));
    const changes = await applyIssueReports(manager, reports);
    if (changes.length > 0) await options.publisher.publish(manager, changes);
    return silent.length;
  });
}

interface SilentVehicle {
  id: string;
  user_id: string | null;
  silent_s: number;
  usual_s: number;
}

/**
 * The silent vehicles without an open NO_DATA issue, their rows locked (SKIP LOCKED: a vehicle whose
 * delivery is being applied is not silent). Vehicles seen recently are ruled out by the index on
 * last_seen_at before any interval is computed.
 */
async function silentVehicles(manager: EntityManager, options: SilentVehicleOptions): Promise<SilentVehicle[]> {
  return manager.query(
    `WITH candidates AS (
       SELECT v.id, v.user_id FROM vehicles v
        WHERE v.last_seen_at < now() - make_interval(secs => $1::float8 * $2::float8)
          AND NOT EXISTS (SELECT 1 FROM vehicle_issues i
                           WHERE i.vehicle_id = v.id AND i.type = '${NO_DATA}' AND i.state = 'OPEN')
        ORDER BY v.id COLLATE "C"
        FOR UPDATE OF v SKIP LOCKED
     ),
     timing AS (
       SELECT c.id, c.user_id, r.last_at,
              GREATEST($2::float8, COALESCE(r.median_s, $2::float8)) AS usual_s
         FROM candidates c
         CROSS JOIN LATERAL (
           SELECT max(received_at) AS last_at,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY gap_s) AS median_s
             FROM (SELECT received_at,
                          extract(epoch FROM received_at - lag(received_at) OVER (ORDER BY received_at)) AS gap_s
                     FROM (SELECT received_at FROM webhook_events
                            WHERE vehicle_id = c.id AND outcome = 'applied'
                            ORDER BY received_at DESC LIMIT ${RECENT_DELIVERIES}) recent) gaps
         ) r
     )
     SELECT id, user_id, extract(epoch FROM now() - last_at)::float8 AS silent_s, usual_s::float8 AS usual_s
       FROM timing
      WHERE last_at IS NOT NULL AND last_at < now() - make_interval(secs => $1::float8 * usual_s)`,
    [options.factor, options.minIntervalSeconds],
  );
}

function silentReport(silentSeconds: number, usualSeconds: number): IssueReport {
  const minutes = (seconds: number) => `${Math.max(1, Math.round(seconds / 60))} min`;
  return {
    type: NO_DATA,
    code: SILENT,
    state: "ERROR",
    description: `No delivery for ${minutes(silentSeconds)}; this vehicle usually sends one every ${minutes(usualSeconds)}.`,
    suggestedUserMessage: "We have not heard from your vehicle lately. Check that it is connected and has signal.",
    docUrl: null,
    resolutionType: null,
    signalCodes: [],
  };
}

/** The report that closes a vehicle's NO_DATA issue when it speaks again. */
export const BACK_REPORT: IssueReport = {
  type: NO_DATA,
  code: SILENT,
  state: "RESOLVED",
  description: null,
  suggestedUserMessage: null,
  docUrl: null,
  resolutionType: null,
  signalCodes: [],
};

/** Runs the check every `intervalMs` until stopped; a failed round is logged and the next one tries again. */
export class SilentVehicleCheck {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly dataSource: () => DataSource | undefined,
    private readonly options: SilentVehicleOptions & { readonly intervalMs: number; readonly logger: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      // A round still running (a slow database) is not joined by another.
      this.running ??= this.round().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async round(): Promise<void> {
    const dataSource = this.dataSource();
    if (!dataSource?.isInitialized) return;
    try {
      const opened = await openSilentVehicleIssues(dataSource, this.options);
      if (opened > 0) this.options.logger.info({ opened }, "silent vehicles: NO_DATA issues opened");
    } catch (error) {
      this.options.logger.warn({ err: error }, "silent vehicle check failed");
    }
  }
}
