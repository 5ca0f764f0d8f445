import { loadConfig } from "../../src/config";
import { Semaphore } from "../../src/changes/hub";
import { expiryCheckDelay } from "../../src/subscriptions/token-expiry";

const DAY = 86_400_000;

describe("expiryCheckDelay", () => {
  const now = Date.parse("2026-11-29T00:00:00Z");

  it("waits until the expiry when setTimeout can, in steps of at most 2^31-1 ms beyond", () => {
    expect(expiryCheckDelay(now + 5_000, now)).toBe(5_000);
    expect(expiryCheckDelay(now + 40 * DAY, now)).toBe(2 ** 31 - 1);
    expect(expiryCheckDelay(now - 1, now)).toBe(0);
  });

  it("never expires a token whose exp is past Date's range (new Date(1e303) is NaN)", () => {
    expect(expiryCheckDelay(new Date(1e300 * 1000).getTime(), now)).toBeUndefined();
  });
});

describe("Semaphore", () => {
  it("runs at most `permits` tasks at once, the others in arrival order", async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const tasks = Array.from({ length: 5 }, (_, i) =>
      semaphore.run(async () => {
        running++;
        most = Math.max(most, running);
        order.push(i);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return i;
      }),
    );
    while (order.length < 5) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    releases.forEach((release) => release());
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(semaphore.queued).toBe(0);
  });

  it("gives the permit back when a task fails", async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await semaphore.run(async () => "next")).toBe("next");
  });
});

describe("WebSocket limits in the configuration", () => {
  it("defaults to 100 subscriptions per socket and 1,000 replayed rows", () => {
    expect(loadConfig({})).toMatchObject({ wsMaxSubscriptionsPerSocket: 100, wsMaxReplayRows: 1_000 });
  });

  it("names a bad value's variable", () => {
    expect(() => loadConfig({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: "0" })).toThrow(/WS_MAX_SUBSCRIPTIONS_PER_SOCKET must be an integer/);
    expect(() => loadConfig({ WS_MAX_REPLAY_ROWS: "lots" })).toThrow(/WS_MAX_REPLAY_ROWS must be an integer/);
  });
});
