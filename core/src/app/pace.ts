// A token bucket per poll: `burst` sends may go back to back, then one per `everyMs` on average. Used where snapshots
// of a poll leave a process (the event path's publishes, the hub's broadcasts): a steady stream below the pace is
// never delayed, and a burst costs a bounded number of sends however many changes it holds.
export class Pace {
  private tokens: number;
  private at = performance.now();

  constructor(
    private readonly everyMs: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** How long until a send may go (0: now). */
  wait(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : (1 - this.tokens) * this.everyMs;
  }

  /** Records a send. */
  take(): void {
    this.refill();
    this.tokens = Math.max(0, this.tokens - 1);
  }

  /** Whether the bucket is back to full: nothing recent to remember. */
  idle(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.at) / this.everyMs);
    this.at = now;
  }
}
