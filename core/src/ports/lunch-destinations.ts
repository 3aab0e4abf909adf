// Where a scheduled lunch poll is posted, reminded and announced: a Slack channel, a Teams conversation, or the web
// only (the board and the vote page, which follow the poll by themselves). Chat adapters implement this port; the
// web kind and the router between kinds are in adapters/web-destinations.ts.
import type { Decision, Leader, Poll, Snapshot } from '../protocol/index.ts';

export type LunchDestination =
  | { kind: 'slack'; workspace: string; channel: string }
  | { kind: 'teams'; workspace: string; conversation: string }
  | { kind: 'web'; workspace: string };

export interface LunchDestinations {
  /** Posts a new poll. Resolves once the destination has it; rejects when it could not be posted. */
  postPoll(destination: LunchDestination, poll: Poll, snapshot: Snapshot): Promise<void>;
  /** The one reminder before close, with the current leader (null while nobody leads). */
  remind(destination: LunchDestination, poll: Poll, leader: Leader | null): Promise<void>;
  /** A direct nudge to one person (a voter key such as `slack:T1:U1`) who usually votes and has not yet. */
  nudge(destination: LunchDestination, poll: Poll, voterKey: string): Promise<void>;
  /** The result, once, when the poll closed. */
  announce(
    destination: LunchDestination,
    poll: Poll,
    result: { snapshot: Snapshot; decision: Decision | null },
  ): Promise<void>;
}
