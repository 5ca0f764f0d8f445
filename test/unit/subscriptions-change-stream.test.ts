import { Fanout, type BusMessage } from "../../src/subscriptions/change-bus";
import type { SignalChanged } from "../../src/changes/change";
import { ChangeStream, ReplayTooLarge, SlowConsumer, type StreamSource } from "../../src/subscriptions/change-stream";

const change = (readingId: string): SignalChanged => ({ kind: "signal", vehicleId: "v", userId: null, code: "c", readingId });

/** A stream over an in-memory bus whose replay returns `replayed` once `replayGate` opens. */
function setup(options: { since?: Date; replayed?: string[]; maxQueue?: number; maxReplay?: number } = {}) {
  const bus = new Fanout((error) => {
    throw error;
  });
  let openGate!: () => void;
  const replayGate = new Promise<void>((resolve) => (openGate = resolve));
  const replays: Date[] = [];
  const source: StreamSource<SignalChanged, string> = {
    accept: (message: BusMessage) => (message.kind === "signal" ? message : undefined),
    keyOf: (event) => event.readingId,
    load: async (event) => `live ${event.readingId}`,
    replay: async (since, limit) => {
      replays.push(since);
      await replayGate;
      return (options.replayed ?? []).slice(0, limit).map((id) => ({ key: id, payload: `replayed ${id}` }));
    },
  };
  const overflows: number[] = [];
  const stream = new ChangeStream(source, {
    subscribe: (listener) => bus.add(listener),
    since: options.since,
    maxQueue: options.maxQueue ?? 100,
    maxReplay: options.maxReplay ?? 100,
    onOverflow: () => overflows.push(1),
    onClose: () => {},
  });
  return { bus, stream, openGate, replays, overflows };
}

describe("ChangeStream", () => {
  it("replays first, then the events that arrived meanwhile, skipping those the replay already had", async () => {
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

  it("refuses a replay larger than its bound", async () => {
    const { stream, openGate } = setup({ since: new Date(0), replayed: ["1", "2", "3"], maxReplay: 2 });
    openGate();
    await expect(stream.next()).rejects.toBeInstanceOf(ReplayTooLarge);
  });
});
