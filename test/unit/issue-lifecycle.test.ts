import { episodesOf, openSeconds, type IssueChangeAt } from "../../src/issues/issue-lifecycle";

const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1) + minutes * 60_000);
const log = (...changes: Array<[IssueChangeAt["change"], number]>): IssueChangeAt[] => changes.map(([change, m]) => ({ change, at: at(m) }));

describe("episodesOf", () => {
  it("opens on OPENED/REOPENED, closes on RESOLVED, ignores refreshes", () => {
    expect(episodesOf(log(["OPENED", 0], ["REFRESHED", 5], ["RESOLVED", 10], ["REOPENED", 20], ["REFRESHED", 25]))).toEqual([
      { openedAt: at(0), resolvedAt: at(10) },
      { openedAt: at(20), resolvedAt: null },
    ]);
  });

  it("makes no episode for a resolution of an issue never seen open", () => {
    expect(episodesOf(log(["RESOLVED", 0]))).toEqual([]);
    expect(episodesOf(log(["RESOLVED", 0], ["REOPENED", 5], ["RESOLVED", 7]))).toEqual([{ openedAt: at(5), resolvedAt: at(7) }]);
  });
});

describe("openSeconds", () => {
  it("measures a closed episode to its resolution and an open one to now", () => {
    expect(openSeconds({ openedAt: at(0), resolvedAt: at(10) }, at(100))).toBe(600);
    expect(openSeconds({ openedAt: at(0), resolvedAt: null }, at(2))).toBe(120);
  });

  it("is never negative when clocks disagree", () => {
    expect(openSeconds({ openedAt: at(10), resolvedAt: null }, at(0))).toBe(0);
  });
});
