// One process's log of failed store calls. An outage fails every request, WebSocket join, chat click and background
// loop at once; a line with a stack for each would bury everything else and cost more than the requests. So an
// unreachable store is logged at most once per interval, each line counting the failures it stands for, while
// anything else (a bug) is logged at once.
import { isStoreUnavailable, loggableError } from '../adapters/sql/store-errors.ts';

export interface WarnLog {
  warn(obj: object, msg?: string): void;
}

export class StoreErrorLog {
  private lastAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;
  private latest: { err: unknown; what: string } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Failures that were the store being unreachable, since start (for tests and metrics). */
  outages = 0;

  constructor(
    private readonly log: WarnLog,
    private readonly intervalMs = 1_000,
  ) {}

  /**
   * Logs a failed step (`what`: where it failed). Returns whether it was the store being unreachable, so the caller
   * answers "try again shortly" instead of "something broke".
   */
  report(err: unknown, what: string): boolean {
    if (!isStoreUnavailable(err)) {
      this.log.warn({ error: loggableError(err) }, what);
      return false;
    }
    this.outages++;
    const now = Date.now();
    if (this.timer === undefined && now - this.lastAt >= this.intervalMs) {
      this.write(err, what, 0);
      return true;
    }
    // Folded into one line at the end of the interval: the newest failure, and how many more there were.
    this.suppressed++;
    this.latest = { err, what };
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.lastAt + this.intervalMs - now));
      this.timer.unref?.();
    }
    return true;
  }

  private flush(): void {
    this.timer = undefined;
    const latest = this.latest;
    if (!latest) return;
    this.latest = undefined;
    const n = this.suppressed;
    this.suppressed = 0;
    this.write(latest.err, latest.what, n - 1);
  }

  private write(err: unknown, what: string, suppressed: number): void {
    this.lastAt = Date.now();
    this.log.warn({ error: loggableError(err), during: what, suppressed }, 'store unavailable');
  }
}
