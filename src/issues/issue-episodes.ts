import type { IssueChangeKind } from "./vehicle-issue-change.entity";

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
 * The open periods of an issue from its change log (in log order): OPENED and REOPENED start one,
 * RESOLVED ends the current one, REFRESHED changes nothing. A resolution of an issue never seen
 * open (Smartcar may send only that) makes no episode.
 */
export function episodesOf(changes: readonly IssueChangeAt[]): IssueEpisode[] {
  const episodes: IssueEpisode[] = [];
  let openedAt: Date | undefined;
  for (const { change, at } of changes) {
    switch (change) {
      case "OPENED":
      case "REOPENED":
        openedAt ??= at;
        break;
      case "RESOLVED":
        if (openedAt) episodes.push({ openedAt, resolvedAt: at });
        openedAt = undefined;
        break;
      case "REFRESHED":
        break;
      default:
        throw new Error(`unknown issue change ${String(change satisfies never)}`);
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
