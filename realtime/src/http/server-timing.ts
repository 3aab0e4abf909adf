// The Server-Timing header of a vote's answer: how long each stage took, in ms (`edge;dur=0.41, rules;dur=0.02,
// commit;dur=3.10, snapshot;dur=1.22`). Browsers show it in their developer tools; the
// benchmarks read it to time each hop of one vote. It names stages only, never a voter or a poll.
import type { Response } from 'express';

/** When the request reached us (set by the request log, the first middleware), else now. */
export const receivedAt = (res: Response): number =>
  typeof res.locals.receivedAt === 'number' ? res.locals.receivedAt : performance.now();

export class StageTimer {
  private last: number;
  private readonly parts: string[] = [];

  constructor(start: number) {
    this.last = start;
  }

  /** The stage that just ended: its time is what passed since the previous mark. */
  readonly mark = (stage: string): void => {
    const now = performance.now();
    this.parts.push(`${stage};dur=${(now - this.last).toFixed(2)}`);
    this.last = now;
  };

  header(): string {
    return this.parts.join(', ');
  }
}
