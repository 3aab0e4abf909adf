// The web kind of lunch destination, and the router that sends each destination to the adapter of its kind.
import type { LunchDestination, LunchDestinations } from '../ports/lunch-destinations.ts';
import type { Decision, Leader, Poll, Snapshot } from '../protocol/index.ts';

/**
 * The web kind: the board and the vote page follow the poll through the event path, so there is nothing to send.
 * Chat kinds are refused until a chat adapter is plugged in (an error the caller logs; the poll itself stands).
 */
export class WebDestinations implements LunchDestinations {
  async postPoll(d: LunchDestination): Promise<void> {
    this.check(d);
  }
  async remind(d: LunchDestination): Promise<void> {
    this.check(d);
  }
  async nudge(d: LunchDestination): Promise<void> {
    this.check(d);
  }
  async announce(d: LunchDestination): Promise<void> {
    this.check(d);
  }
  private check(d: LunchDestination): void {
    if (d.kind !== 'web') throw new Error(`no ${d.kind} destination is configured on this server`);
  }
}

/** Routes each destination kind to its implementation (web built in; Slack and Teams when their apps run). */
export class DestinationRouter implements LunchDestinations {
  private readonly kinds = new Map<LunchDestination['kind'], LunchDestinations>();
  constructor(web: LunchDestinations = new WebDestinations()) {
    this.kinds.set('web', web);
  }
  register(kind: 'slack' | 'teams', impl: LunchDestinations): void {
    this.kinds.set(kind, impl);
  }
  /** Whether this process can deliver to that kind (a realtime-only process leaves chat destinations to the bots). */
  canDeliver(d: LunchDestination): boolean {
    return this.kinds.has(d.kind);
  }
  private of(d: LunchDestination): LunchDestinations {
    const impl = this.kinds.get(d.kind);
    if (!impl) throw new Error(`no ${d.kind} destination is configured on this server`);
    return impl;
  }
  postPoll(d: LunchDestination, poll: Poll, snapshot: Snapshot) {
    return this.of(d).postPoll(d, poll, snapshot);
  }
  remind(d: LunchDestination, poll: Poll, leader: Leader | null) {
    return this.of(d).remind(d, poll, leader);
  }
  nudge(d: LunchDestination, poll: Poll, voterKey: string) {
    return this.of(d).nudge(d, poll, voterKey);
  }
  announce(d: LunchDestination, poll: Poll, result: { snapshot: Snapshot; decision: Decision | null }) {
    return this.of(d).announce(d, poll, result);
  }
}
