import type { BusMessage, Change, SignalChanged } from "../../src/changes/change";
import { ResumableSubscription, ReplayTooLong, SlowConsumer, type SubscriptionSource } from "../../src/changes/resumable";

/** A new value of signal `code` (of one vehicle), with reading id `readingId`. */
const change = (readingId: string, code = `c${readingId}`): SignalChanged => ({ kind: "signal", vehicleId: "v", userId: null, code, readingId });
const keyOf = (change: Change) => (change.kind === "signal" ? change.readingId : change.changeId);

/**
 * A subscription fed by an in-memory bus (as the hub feeds it) whose replay returns `replayed` once
 * `replayGate` opens; its socket backs up when `backedUp` says so.
 */
function setup(
  options: { since?: Date; replayed?: string[]; maxQueue?: number; maxReplay?: number; replayPage?: number; backedUp?: boolean } = {},
) {
  const live = new Set<ResumableSubscription<Change, string>>();
  const bus = {
    emit: (message: BusMessage) => live.forEach((subscription) => subscription.receive(message)),
    get size() {
      return live.size;
    },
  };
  let openGate!: () => void;
  const replayGate = new Promise<void>((resolve) => (openGate = resolve));
  const replays: Date[] = [];
  const pages: Array<{ after: string | undefined; limit: number }> = [];
  const source: SubscriptionSource<Change, string> = {
    accept: (message: BusMessage) => (message.kind === "gap" ? undefined : message),
    keyOf,
    load: async (change) => `live ${keyOf(change)}`,
    replay: async (since, after, limit) => {
      if (after === undefined) replays.push(since);
      pages.push({ after, limit });
      await replayGate;
      const rows = options.replayed ?? [];
      const from = after === undefined ? 0 : rows.indexOf(after) + 1;
      return rows.slice(from, from + limit).map((id) => ({ key: id, payload: `replayed ${id}` }));
    },
  };
  const overflows: number[] = [];
  const coalesced: number[] = [];
  const limits = { maxQueue: options.maxQueue ?? 100, maxReplay: options.maxReplay ?? 100, replayPage: options.replayPage };
  const stream: ResumableSubscription<Change, string> = new ResumableSubscription(source, limits, {
    since: options.since,
    onOverflow: () => {
      overflows.push(1);
      return options.backedUp ?? false;
    },
    onCoalesced: (count) => coalesced.push(count),
    onClose: () => live.delete(stream),
  });
  live.add(stream);
  return { bus, stream, openGate, replays, pages, overflows, coalesced };
}

/** The values `stream` yields next, `count` of them. */
async function take(stream: ResumableSubscription<Change, string>, count: number): Promise<string[]> {
  const values: string[] = [];
  for (let i = 0; i < count; i++) values.push((await stream.next()).value as string);
  return values;
}

describe("ResumableSubscription", () => {
  it("replays first, then the changes that arrived meanwhile, skipping those the replay already had", async () => {
    const { bus, stream, openGate } = setup({ since: new Date(0), replayed: ["1", "2", "3"] });
    const first = stream.next();
    // Committed during the replay: 3 is also in the replay's snapshot, 4 is not.
    bus.emit(change("3"));
    bus.emit(change("4"));
    openGate();
    const values = [(await first).value];
    for (let i = 0; i < 3; i++) values.push((await stream.next()).value);
    expect(values).toEqual(["replayed 1", "replayed 2", "replayed 3", "live 4"]);
    bus.emit(change("3"));
    bus.emit(change("5"));
    expect((await stream.next()).value).toBe("live 5");
  });

  it("catches up after a bus gap without repeating what it sent", async () => {
    const { bus, stream, openGate, replays } = setup({ replayed: ["1", "2"] });
    bus.emit(change("1"));
    expect((await stream.next()).value).toBe("live 1");
    const gapSince = new Date(1_000);
    bus.emit({ kind: "gap", since: gapSince });
    openGate();
    expect((await stream.next()).value).toBe("replayed 2");
    expect(replays).toEqual([gapSince]);
  });

  it("ends a waiting next() and stops listening when the client unsubscribes", async () => {
    const { bus, stream } = setup();
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(bus.size).toBe(0);
  });

  it("fails and reports an overflow when the client does not read (its socket backs up)", async () => {
    const { bus, stream, overflows, coalesced } = setup({ maxQueue: 3, backedUp: true });
    for (let i = 0; i < 4; i++) bus.emit(change(String(i), "c"));
    await expect(stream.next()).rejects.toBeInstanceOf(SlowConsumer);
    expect(overflows).toEqual([1]);
    expect(coalesced).toEqual([]);
    expect(bus.size).toBe(0);
  });

  it("coalesces an overflowing queue to each signal's newest change, in commit order, when its socket keeps up", async () => {
    const { bus, stream, overflows, coalesced } = setup({ maxQueue: 3 });
    bus.emit(change("1", "soc"));
    bus.emit(change("2", "odo"));
    bus.emit(change("3", "soc"));
    bus.emit(change("4", "range"));
    expect(overflows).toEqual([1]);
    expect(coalesced).toEqual([1]);
    expect(await take(stream, 3)).toEqual(["live 2", "live 3", "live 4"]);
    // Still open, and back to normal once caught up.
    bus.emit(change("5", "soc"));
    expect(await take(stream, 1)).toEqual(["live 5"]);
    expect(bus.size).toBe(1);
  });

  it("coalesces issue changes to each issue's newest, and keeps a catch-up replay where it was", async () => {
    const { bus, stream, openGate, coalesced } = setup({ maxQueue: 3, replayed: ["12"] });
    const issue = (changeId: string, issueId: string, state: "OPEN" | "RESOLVED"): Change => ({
      kind: "issue",
      issueId,
      vehicleId: "v",
      userId: null,
      state,
      changeId,
    });
    bus.emit(issue("10", "a", "OPEN"));
    bus.emit({ kind: "gap", since: new Date(0) });
    bus.emit(issue("11", "b", "OPEN"));
    bus.emit(issue("12", "a", "RESOLVED"));
    expect(coalesced).toEqual([1]);
    openGate();
    // The replay reads change 12 from the database; live, it is not sent again.
    expect(await take(stream, 2)).toEqual(["replayed 12", "live 11"]);
    bus.emit(issue("13", "a", "OPEN"));
    expect(await take(stream, 1)).toEqual(["live 13"]);
  });

  it("lets a queue of more distinct signals than maxQueue grow, coalescing again only once it doubled, and loses none", async () => {
    const { bus, stream, overflows, coalesced } = setup({ maxQueue: 3 });
    for (let i = 1; i <= 10; i++) bus.emit(change(String(i)));
    // Past 3, then past 8 (twice the 4 the first coalescing kept).
    expect(overflows).toEqual([1, 1]);
    expect(coalesced).toEqual([]);
    expect(await take(stream, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `live ${i + 1}`));
  });

  it("always ends with each signal's newest value, never an older one after a newer, however bursty the changes", async () => {
    let seed = 7;
    const random = (below: number) => (seed = (seed * 48_271) % 2_147_483_647) % below;
    const { bus, stream, coalesced } = setup({ maxQueue: 5 });
    const codeOf = new Map<string, string>();
    const newest = new Map<string, string>();
    const received = new Map<string, string[]>();
    let readingId = 0;
    /** Emits a marker change and reads everything up to it. */
    const drain = async () => {
      const marker = String(++readingId);
      bus.emit(change(marker, "marker"));
      for (;;) {
        const id = ((await stream.next()).value as string).replace("live ", "");
        if (id === marker) return;
        const code = codeOf.get(id) as string;
        received.set(code, [...(received.get(code) ?? []), id]);
      }
    };
    for (let round = 0; round < 100; round++) {
      // Bursts of up to 15 changes of 6 signals, past the queue's 5 most times.
      for (let i = random(16); i > 0; i--) {
        const id = String(++readingId);
        const code = `c${random(6)}`;
        codeOf.set(id, code);
        newest.set(code, id);
        bus.emit(change(id, code));
      }
      if (random(3) === 0) await drain();
    }
    await drain();

    expect(coalesced.length).toBeGreaterThan(0);
    for (const [code, ids] of received) expect([code, ids]).toEqual([code, [...ids].sort((a, b) => Number(a) - Number(b))]);
    expect(new Map([...received].map(([code, ids]) => [code, ids.at(-1)]))).toEqual(newest);
  });

  it("sends a replay's first maxReplay rows, then fails with ReplayTooLong", async () => {
    const { stream, openGate } = setup({ since: new Date(0), replayed: ["1", "2", "3"], maxReplay: 2 });
    openGate();
    expect((await stream.next()).value).toBe("replayed 1");
    expect((await stream.next()).value).toBe("replayed 2");
    await expect(stream.next()).rejects.toBeInstanceOf(ReplayTooLong);
  });

  it("replays page by page, reading the next page only once the client took the previous one", async () => {
    const ids = Array.from({ length: 7 }, (_, i) => String(i + 1));
    const { stream, openGate, pages } = setup({ since: new Date(0), replayed: ids, maxReplay: 7, replayPage: 3 });
    openGate();
    const values = [(await stream.next()).value];
    expect(pages).toEqual([{ after: undefined, limit: 3 }]);
    for (let i = 0; i < 6; i++) values.push((await stream.next()).value);
    expect(values).toEqual(ids.map((id) => `replayed ${id}`));
    // 3 + 3 + 1, and one row more to learn there is nothing past the limit.
    expect(pages).toEqual([
      { after: undefined, limit: 3 },
      { after: "3", limit: 3 },
      { after: "6", limit: 2 },
    ]);
  });

  it("goes live after a replay that ends exactly at its bound", async () => {
    const { bus, stream, openGate } = setup({ since: new Date(0), replayed: ["1", "2"], maxReplay: 2, replayPage: 1 });
    openGate();
    expect((await stream.next()).value).toBe("replayed 1");
    expect((await stream.next()).value).toBe("replayed 2");
    bus.emit(change("9"));
    expect((await stream.next()).value).toBe("live 9");
  });
});
