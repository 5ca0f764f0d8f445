import { performance, type EventLoopUtilization } from "node:perf_hooks";

export interface BusyGateOptions {
  /** Operations that may run at once while the process has time to spare. */
  readonly max: number;
  /** How often the event loop's utilisation is read, ms. @default 100 */
  readonly intervalMs?: number;
}

/** Above this share of an interval spent running code, the process counts as busy: fewer operations start. */
const BUSY = 0.75;
/** Below it, one more may run at once, up to `max`. */
const IDLE = 0.5;

/**
 * Admission of GraphQL operations by how busy this process is, so that readers can never take the event
 * loop from ingestion: deliveries, the spool's drain and subscription fan-out run on the same thread,
 * and do not pass this gate. While the event loop is busier than BUSY, the number of operations allowed
 * to run at once is halved (down to one: readers are slowed, never stopped); while it is idler than IDLE,
 * it grows by one again (additive increase, multiplicative decrease, as TCP shares a link). The rest wait,
 * first come first served.
 */
export class BusyGate {
  private limit: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: BusyGateOptions) {
    this.limit = options.max;
    this.timer = setInterval(() => this.adapt(), options.intervalMs ?? 100);
    this.timer.unref();
  }

  /** Operations allowed to run at once now, running, and waiting: for the metrics. */
  get state(): { limit: number; running: number; waiting: number } {
    return { limit: this.limit, running: this.running, waiting: this.waiting.length };
  }

  /** Resolves, once the operation may run, with the function to call when it ends. */
  enter(): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push(() => resolve(this.turn()));
      this.admit();
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private turn(): () => void {
    this.running++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.running--;
      this.admit();
    };
  }

  private admit(): void {
    while (this.running < this.limit && this.waiting.length > 0) this.waiting.shift()!();
  }

  private adapt(): void {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, this.last);
    this.last = now;
    if (utilization > BUSY) this.limit = Math.max(1, Math.floor(this.limit / 2));
    else if (utilization < IDLE) this.limit = Math.min(this.options.max, this.limit + 1);
    this.admit();
  }
}
