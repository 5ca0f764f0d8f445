import { IssueState } from "./issue-state";
import type { IssueChangeKind } from "./vehicle-issue-change.entity";

/**
 * The lifecycle of an issue, written once: what a report does to an issue in state `from` (null: not
 * seen yet) that leaves it in state `to`, as logged in `vehicle_issue_changes`. Ingestion writes the
 * log by it (`changeOf`, in SQL); history reads the log back into open periods (`episodesOf`).
 * A repeated resolution changes nothing a client would see, so it is not logged.
 */
const LIFECYCLE: ReadonlyArray<{ from: IssueState | null; to: IssueState; change: IssueChangeKind | null }> = [
  { from: null, to: IssueState.OPEN, change: "OPENED" },
  { from: null, to: IssueState.RESOLVED, change: "RESOLVED" },
  { from: IssueState.OPEN, to: IssueState.OPEN, change: "REFRESHED" },
  { from: IssueState.OPEN, to: IssueState.RESOLVED, change: "RESOLVED" },
  { from: IssueState.RESOLVED, to: IssueState.OPEN, change: "REOPENED" },
  { from: IssueState.RESOLVED, to: IssueState.RESOLVED, change: null },
];

/**
 * The LIFECYCLE as a SQL expression over the state columns `from` and `to`: the change to log, or
 * NULL for none.
 */
export function changeOf(from: string, to: string): string {
  const when = LIFECYCLE.map(
    (step) => `WHEN ${from} ${step.from === null ? "IS NULL" : `= '${step.from}'`} AND ${to} = '${step.to}' THEN ${step.change === null ? "NULL" : `'${step.change}'`}`,
  );
  return `CASE ${when.join(" ")} END`;
}

/** The state an issue is in after a change of the log. */
function stateAfter(change: IssueChangeKind): IssueState {
  const step = LIFECYCLE.find((candidate) => candidate.change === change);
  if (!step) throw new Error(`unknown issue change ${change}`);
  return step.to;
}

export interface IssueChangeAt {
  readonly change: IssueChangeKind;
  readonly at: Date;
}

export interface IssueEpisode {
  readonly openedAt: Date;
  /** null while the episode is still open. */
  readonly resolvedAt: Date | null;
}

/**
 * The open periods of an issue from its change log (in log order): each runs from the change that
 * left it open to the one that resolved it. A resolution of an issue never seen open (Smartcar may
 * send only that) makes no episode.
 */
export function episodesOf(changes: readonly IssueChangeAt[]): IssueEpisode[] {
  const episodes: IssueEpisode[] = [];
  let openedAt: Date | undefined;
  for (const { change, at } of changes) {
    if (stateAfter(change) === IssueState.OPEN) {
      openedAt ??= at;
    } else {
      if (openedAt) episodes.push({ openedAt, resolvedAt: at });
      openedAt = undefined;
    }
  }
  if (openedAt) episodes.push({ openedAt, resolvedAt: null });
  return episodes;
}

/** Seconds an episode was (or, until `now`, has been) open; never negative. */
export function openSeconds(episode: IssueEpisode, now: Date): number {
  const end = episode.resolvedAt ?? now;
  return Math.max(0, (end.getTime() - episode.openedAt.getTime()) / 1000);
}
