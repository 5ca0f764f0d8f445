/**
 * Turns per caller: at most `limit` operations of one caller run at once; as many as `WAITING_FACTOR`
 * times that wait for a turn, first come first served; beyond that the caller is refused. A caller
 * within its rate limit can then hold no more than its share of the database's connections, and a
 * dashboard that sends a burst of queries on load gets them all answered, a few at a time.
 */
export class FairShare {
  private readonly callers = new Map<string, { running: number; waiting: Array<() => void> }>();

  constructor(private readonly limit: number) {}

  /**
   * A turn for `key`: the function that ends it (call it once the operation ends), at once or when an
   * earlier operation of the caller ends; null when too many of the caller's operations wait already.
   */
  enter(key: string): Promise<() => void> | null {
    let caller = this.callers.get(key);
    if (!caller) this.callers.set(key, (caller = { running: 0, waiting: [] }));
    const entered = caller;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      // The turn passes to the next in line, else there is one fewer running.
      const next = entered.waiting.shift();
      if (next) return next();
      entered.running--;
      if (entered.running === 0) this.callers.delete(key);
    };
    if (entered.running < this.limit) {
      entered.running++;
      return Promise.resolve(end);
    }
    if (entered.waiting.length >= this.limit * WAITING_FACTOR) return null;
    return new Promise((resolve) => entered.waiting.push(() => resolve(end)));
  }
}

/** Operations that may wait, for each one a caller may run (the refusal's message says "eight times"). */
const WAITING_FACTOR = 8;
