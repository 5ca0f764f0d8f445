import type { EntityManager } from "typeorm";
import type { IssueChanged } from "../changes/change";
import { changeOf } from "./issue-lifecycle";
import { IssueState } from "./issue-state";

export interface IssueReport {
  readonly type: string;
  readonly code: string | null;
  readonly state: "ERROR" | "RESOLVED";
  readonly description: string | null;
  readonly suggestedUserMessage: string | null;
  readonly docUrl: string | null;
  readonly resolutionType: string | null;
  readonly signalCodes: readonly string[];
}

export interface IssueReportToApply {
  /** null for the old top-level `errors` shape that names no vehicle. */
  readonly vehicleId: string | null;
  /** The user it was reported for: an issue is one user's (contract, Access), so a new owner's starts afresh. */
  readonly userId: string | null;
  readonly eventId: string;
  /** Ordering key (the delivery's deliveredAt, else receipt): an older report never undoes a newer one. */
  readonly reportedAt: Date;
  readonly report: IssueReport;
}

/** Issues are matched on (vehicle, user, type, code); Smartcar sends `code: null` for some types. */
export function issueKey(vehicleId: string | null, userId: string | null, type: string, code: string | null): string {
  return [vehicleId ?? "", userId ?? "", type, code ?? ""].join("|");
}

/**
 * Opens, refreshes, resolves and reopens issues, and logs each change in `vehicle_issue_changes`.
 * One statement per round; a round holds at most one report per issue (ON CONFLICT may touch a row
 * once per statement), so a batch normally needs a single round.
 */
export async function applyIssueReports(manager: EntityManager, rows: readonly IssueReportToApply[]): Promise<IssueChanged[]> {
  const changes: IssueChanged[] = [];
  for (const round of rounds(rows)) changes.push(...(await applyRound(manager, round)));
  return changes;
}

/** The change each report makes, from the issue's state before (`p`) and after (`c`); built once. */
const CHANGE = changeOf("p.state", "c.state");

function rounds(rows: readonly IssueReportToApply[]): IssueReportToApply[][] {
  const result: IssueReportToApply[][] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const key = issueKey(row.vehicleId, row.userId, row.report.type, row.report.code);
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    (result[round] ??= []).push(row);
  }
  return result;
}

async function applyRound(manager: EntityManager, rows: readonly IssueReportToApply[]): Promise<IssueChanged[]> {
  const changed: Array<{ id: string; issue_id: string; vehicle_id: string | null; user_id: string | null; state: IssueState }> =
    await manager.query(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::text[], $10::text[], $11::jsonb[], $12::timestamptz[], $13::text[])
                  AS i(issue_key, vehicle_id, user_id, type, code, state, description, suggested_user_message, doc_url,
                       resolution_type, signal_codes, reported_at, event_id)
       ),
       -- The state before this statement (its CTEs share one snapshot). Not FOR UPDATE: that would skip
       -- the rows \`changed\` updates. The caller's vehicle row locks serialise changes to a vehicle's issues.
       previous AS (
         SELECT v.issue_key, v.state FROM vehicle_issues v JOIN input i USING (issue_key)
       ),
       changed AS (
         INSERT INTO vehicle_issues AS v
           (issue_key, vehicle_id, user_id, type, code, state, description, suggested_user_message, doc_url,
            resolution_type, signal_codes, opened_at, resolved_at, last_seen_at, reopen_count, occurrences,
            reported_at, updated_at, event_id)
         SELECT i.issue_key, i.vehicle_id, i.user_id, i.type, i.code, i.state, i.description, i.suggested_user_message,
                i.doc_url, i.resolution_type, ARRAY(SELECT jsonb_array_elements_text(i.signal_codes)),
                i.reported_at, CASE WHEN i.state = 'RESOLVED' THEN i.reported_at END, i.reported_at, 0,
                CASE WHEN i.state = 'OPEN' THEN 1 ELSE 0 END, i.reported_at, clock_timestamp(), i.event_id
           FROM input i
         ON CONFLICT (issue_key) DO UPDATE SET
           state = EXCLUDED.state,
           -- A RESOLVED report carries little text: keep what the error said.
           description = COALESCE(EXCLUDED.description, v.description),
           suggested_user_message = COALESCE(EXCLUDED.suggested_user_message, v.suggested_user_message),
           doc_url = COALESCE(EXCLUDED.doc_url, v.doc_url),
           resolution_type = COALESCE(EXCLUDED.resolution_type, v.resolution_type),
           signal_codes = CASE WHEN cardinality(EXCLUDED.signal_codes) > 0 THEN EXCLUDED.signal_codes ELSE v.signal_codes END,
           opened_at = CASE WHEN v.state = 'RESOLVED' AND EXCLUDED.state = 'OPEN' THEN EXCLUDED.opened_at ELSE v.opened_at END,
           resolved_at = CASE WHEN EXCLUDED.state = 'OPEN' THEN NULL
                              WHEN v.state = 'RESOLVED' THEN v.resolved_at
                              ELSE EXCLUDED.reported_at END,
           last_seen_at = GREATEST(v.last_seen_at, EXCLUDED.last_seen_at),
           reopen_count = v.reopen_count + CASE WHEN v.state = 'RESOLVED' AND EXCLUDED.state = 'OPEN' THEN 1 ELSE 0 END,
           occurrences = v.occurrences + EXCLUDED.occurrences,
           reported_at = EXCLUDED.reported_at,
           updated_at = clock_timestamp(),
           event_id = EXCLUDED.event_id
         WHERE v.reported_at <= EXCLUDED.reported_at
         RETURNING v.id, v.issue_key, v.vehicle_id, v.user_id, v.state
       )
       -- occurred_at after the vehicle's lock, not now() (the transaction's start, before any lock
       -- wait): per vehicle the log's times then follow commit order, as resuming \`since\` needs.
       INSERT INTO vehicle_issue_changes (issue_id, vehicle_id, user_id, state, change, event_id, occurred_at)
       SELECT c.id, c.vehicle_id, c.user_id, c.state, lifecycle.change, i.event_id, clock_timestamp()
         FROM changed c
         JOIN input i USING (issue_key)
         LEFT JOIN previous p USING (issue_key)
        CROSS JOIN LATERAL (SELECT ${CHANGE} AS change) lifecycle
        WHERE lifecycle.change IS NOT NULL
        ORDER BY c.issue_key
       RETURNING id, issue_id, vehicle_id, user_id, state`,
      [
        rows.map((row) => issueKey(row.vehicleId, row.userId, row.report.type, row.report.code)),
        rows.map((row) => row.vehicleId),
        rows.map((row) => row.userId),
        rows.map((row) => row.report.type),
        rows.map((row) => row.report.code),
        rows.map((row) => (row.report.state === "RESOLVED" ? IssueState.RESOLVED : IssueState.OPEN)),
        rows.map((row) => row.report.description),
        rows.map((row) => row.report.suggestedUserMessage),
        rows.map((row) => row.report.docUrl),
        rows.map((row) => row.report.resolutionType),
        rows.map((row) => JSON.stringify(row.report.signalCodes)),
        rows.map((row) => row.reportedAt.toISOString()),
        rows.map((row) => row.eventId),
      ],
    );
  return changed.map((row) => ({
    kind: "issue",
    issueId: row.issue_id,
    vehicleId: row.vehicle_id,
    userId: row.user_id,
    state: row.state,
    changeId: String(row.id),
  }));
}
