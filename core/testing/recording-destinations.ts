// A LunchDestinations for tests: records every post, reminder, nudge and announcement, and can be told to fail.
import type { LunchDestination, LunchDestinations } from '../src/ports/lunch-destinations.ts';
import type { Decision, Leader, Poll, Snapshot } from '../src/protocol/index.ts';

export type DestinationCall =
  | { kind: 'post'; destination: LunchDestination; poll: Poll }
  | { kind: 'remind'; destination: LunchDestination; poll: Poll; leader: Leader | null }
  | { kind: 'nudge'; destination: LunchDestination; poll: Poll; voter: string }
  | {
      kind: 'announce';
      destination: LunchDestination;
      poll: Poll;
      snapshot: Snapshot;
      decision: Decision | null;
    };

export class RecordingDestinations implements LunchDestinations {
  readonly calls: DestinationCall[] = [];
  /** The next N calls throw (a platform error), then calls succeed again. */
  failNext = 0;

  private record(call: DestinationCall): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('destination refused (test)');
    }
    this.calls.push(call);
  }
  of<K extends DestinationCall['kind']>(kind: K): Extract<DestinationCall, { kind: K }>[] {
    return this.calls.filter((c): c is Extract<DestinationCall, { kind: K }> => c.kind === kind);
  }
  async postPoll(destination: LunchDestination, poll: Poll): Promise<void> {
    this.record({ kind: 'post', destination, poll });
  }
  async remind(destination: LunchDestination, poll: Poll, leader: Leader | null): Promise<void> {
    this.record({ kind: 'remind', destination, poll, leader });
  }
  async nudge(destination: LunchDestination, poll: Poll, voter: string): Promise<void> {
    this.record({ kind: 'nudge', destination, poll, voter });
  }
  async announce(
    destination: LunchDestination,
    poll: Poll,
    result: { snapshot: Snapshot; decision: Decision | null },
  ): Promise<void> {
    this.record({ kind: 'announce', destination, poll, ...result });
  }
}
