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
/** The longest pause between two operations' starts while the process stays busy with one at a time. */
const MAX_PAUSE_MS = 2_000;

/**
 * Admission of GraphQL operations by how busy this process is, so that readers can never take the event
 * loop from ingestion: deliveries, the spool's drain and subscription fan-out run on the same thread,
 * and do not pass this gate. While the event loop is busier than BUSY, the number of operations allowed
 * to run at once is halved, down to one, and then the pause between two operations' starts doubles, up
 * to MAX_PAUSE_MS (readers are slowed, never stopped); while it is idler than IDLE, the pause halves, then
 * one more may run at once again (additive increase, multiplicative decrease, as TCP shares a link).
 * The rest wait, first come first served.
 */
export class BusyGate {
  private limit: number;
  /** Least time between two starts, ms: 0 unless the process stays busy with one operation at a time. */
  private pause = 0;
  private lastStart = 0;
  /** Set while an admission waits for the pause to pass. */
  private paused: NodeJS.Timeout | undefined;
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
  get state(): { limit: number; pauseMs: number; running: number; waiting: number } {
    return { limit: this.limit, pauseMs: this.pause, running: this.running, waiting: this.waiting.length };
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
    clearTimeout(this.paused);
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
    while (this.running < this.limit && this.waiting.length > 0 && this.paused === undefined) {
      const wait = this.lastStart + this.pause - Date.now();
      if (wait > 0) {
        this.paused = setTimeout(() => {
          this.paused = undefined;
          this.admit();
        }, wait);
        return;
      }
      this.lastStart = Date.now();
      this.waiting.shift()!();
    }
  }

  private adapt(): void {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, this.last);
    this.last = now;
    const interval = this.options.intervalMs ?? 100;
    if (utilization > BUSY) {
      if (this.limit > 1) this.limit = Math.floor(this.limit / 2);
      else this.pause = Math.min(MAX_PAUSE_MS, Math.max(interval, 2 * this.pause));
    } else if (utilization < IDLE) {
      if (this.pause > 0) this.pause = this.pause > interval ? this.pause / 2 : 0;
      else this.limit = Math.min(this.options.max, this.limit + 1);
    }
    this.admit();
  }
}
