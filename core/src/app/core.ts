// What the edges are handed: the focused store ports, the bus, the snapshot cache and the event path, wired once.
// Use cases take the parts they need (castVote takes ballots, snapshots and events), so passing a Core works.
import type { Bus } from '../ports/bus.ts';
import type { CatalogStore, LunchStore } from '../ports/lunch-store.ts';
import type { RateLimit } from '../ports/rate-limit.ts';
import type {
  BallotStore,
  ChatMessageStore,
  ConversationStore,
  DirectoryStore,
  OutboxStore,
  PollStore,
  Store,
} from '../ports/store.ts';
import { EventPath, type EventPathOptions } from './event-path.ts';
import { Snapshots } from './snapshots.ts';

export interface Core {
  polls: PollStore;
  ballots: BallotStore;
  chat: ChatMessageStore;
  /** Chat conversations the bots were added to (proactive posts). */
  conversations: ConversationStore;
  directory: DirectoryStore;
  outbox: OutboxStore;
  /** The lunch ritual: catalog, schedules, visits, reminders, headcount, the fair close. */
  lunch: LunchStore;
  catalog: CatalogStore;
  bus: Bus;
  snapshots: Snapshots;
  events: EventPath;
  /** Per-voter cap on ballot changes (castVote reads it); absent: unlimited. */
  voteLimit?: RateLimit;
  /** Per-creator cap on polls made from chat commands (createChatPoll reads it); absent: unlimited. */
  pollLimit?: RateLimit;
  /** Whether the store answers (readiness). */
  ping(): Promise<void>;
}

export function createCore(
  store: Store,
  bus: Bus,
  {
    voteLimit,
    pollLimit,
    ...options
  }: Omit<EventPathOptions, 'snapshots' | 'bus'> & { voteLimit?: RateLimit; pollLimit?: RateLimit } = {},
): Core {
  const snapshots = new Snapshots(store);
  const events = new EventPath({ snapshots, bus, ...options });
  events.start();
  return {
    polls: store,
    ballots: store,
    chat: store,
    conversations: store,
    directory: store,
    outbox: store,
    lunch: store,
    catalog: store,
    bus,
    snapshots,
    events,
    ...(voteLimit ? { voteLimit } : {}),
    ...(pollLimit ? { pollLimit } : {}),
    ping: () => store.ping(),
  };
}
