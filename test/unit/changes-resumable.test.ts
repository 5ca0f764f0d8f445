import type { BusMessage, SignalChanged } from "../../src/changes/change";
import { ResumableSubscription, ReplayTooLong, SlowConsumer, type SubscriptionSource } from "../../src/changes/resumable";

const change = (readingId: string): SignalChanged => ({ kind: "signal", vehicleId: "v", userId: null, code: "c", readingId });

/** A subscription fed by an in-memory bus (as the hub feeds it) whose replay returns `replayed` once `replayGate` opens. */
function setup(options: { since?: Date; replayed?: string[]; maxQueue?: number; maxReplay?: number; replayPage?: number } = {}) {
  const live = new Set<ResumableSubscription<SignalChanged, string>>();
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
  const source: SubscriptionSource<SignalChanged, string> = {
    accept: (message: BusMessage) => (message.kind === "signal" ? message : undefined),
    keyOf: (change) => change.readingId,
    load: async (change) => `live ${change.readingId}`,
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
  const limits = { maxQueue: options.maxQueue ?? 100, maxReplay: options.maxReplay ?? 100, replayPage: options.replayPage };
  const stream: ResumableSubscription<SignalChanged, string> = new ResumableSubscription(source, limits, {
    since: options.since,
    onOverflow: () => overflows.push(1),
    onClose: () => live.delete(stream),
  });
  live.add(stream);
  return { bus, stream, openGate, replays, pages, overflows };
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

  it("fails and reports an overflow when the client does not read", async () => {
    const { bus, stream, overflows } = setup({ maxQueue: 3 });
    for (let i = 0; i < 4; i++) bus.emit(change(String(i)));
    await expect(stream.next()).rejects.toBeInstanceOf(SlowConsumer);
    expect(overflows).toEqual([1]);
    expect(bus.size).toBe(0);
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
