import type { EntityManager } from "typeorm";

/** An issue's state after the change (the issues feature's IssueState values). */
export type IssueState = "OPEN" | "RESOLVED";

/** A value that became a vehicle's latest value (never a duplicate, a late reading or a TEST delivery). */
export interface SignalChanged {
  readonly kind: "signal";
  readonly vehicleId: string;
  /** Owner of the vehicle, for per-user filtering without a lookup. */
  readonly userId: string | null;
  readonly code: string;
  /** `signal_readings.id` of the reading that became latest: the replay and de-duplication key. */
  readonly readingId: string;
}

/** An issue opened, refreshed, resolved or reopened. */
export interface IssueChanged {
  readonly kind: "issue";
  readonly issueId: string;
  readonly vehicleId: string | null;
  readonly userId: string | null;
  readonly state: IssueState;
  /** `vehicle_issue_changes.id` of this change: the replay and de-duplication key. */
  readonly changeId: string;
}

export type Change = SignalChanged | IssueChanged;

/**
 * What a change is about, such that a newer change of the same subject supersedes it: a vehicle's
 * signal (its newer value), an issue (its newer state).
 */
export function subjectOf(change: Change): string {
  return change.kind === "signal" ? `signal\u0000${change.vehicleId}\u0000${change.code}` : `issue\u0000${change.issueId}`;
}

/**
 * Where the ingestion's apply path hands its changes. `publish` is called inside the applying
 * transaction, with that transaction's manager, so an implementation that delivers on commit only
 * (PostgreSQL NOTIFY) never announces a rolled-back change.
 */
export interface ChangePublisher {
  publish(manager: EntityManager, changes: readonly Change[]): Promise<void>;
}

/**
 * What the bus delivers: a committed change, or `gap` when it may have missed some (its connection to
 * the database dropped). After a gap, subscriptions catch up from the database from `since` on.
 */
export type BusMessage = Change | { readonly kind: "gap"; readonly since: Date };

/**
 * Carries committed changes from whichever instance applied them to the hub of every instance.
 * Engines: PostgreSQL LISTEN/NOTIFY (postgres-bus.ts) and in-process (bus.ts, for the embedded PGlite).
 */
export interface ChangeBus extends ChangePublisher {
  /** Starts delivering every committed change, in commit order, to `deliver` (which must not throw). */
  start(deliver: (message: BusMessage) => void): Promise<void>;
  /** Resolves once every change committed before the call has been delivered on this instance. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}
