// Keeps every chat message that shows a poll current (votes from any platform move it) and announces the winner
// once when the poll closes. Platforms register how they update and announce; the delivery engine paces, budgets
// and retries the calls. Several bot processes share the work through leases in the store: a process keeps the
// messages of the polls it holds a lease on, renews its leases while it lives, and takes over the polls of a process
// whose leases expired (it died) by bringing their messages up to date. Snapshots come from the event path; the bus
// delivers a poll here only while this process holds it.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type ChatMessage, type Core, isStoreUnavailable, loggableError } from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import { type BudgetLimiter, RateLimiterBudgets } from '../delivery/budgets.ts';
import type { ChatPlatform } from '../delivery/contract.ts';
import { DeliveryEngine, messageKey } from '../delivery/delivery-engine.ts';

export type { ChatPlatform } from '../delivery/contract.ts';

/** How long a lease holds without renewal: a dead process's polls move to another within this and one renewal. */
export const LEASE_TTL_MS = 15_000;
/** How often leases are renewed and the set of polls with live messages is read again. */
export const LEASE_RENEW_MS = 5_000;

export interface TallySyncOptions {
  core: Pick<Core, 'chat' | 'events' | 'snapshots'>;
  log: { warn(o: object, m?: string): void; info?(o: object, m?: string): void };
  /** The process's log of failed store calls: an outage is logged there, once a second. */
  storeErrors?: { report(err: unknown, what: string): boolean };
  /** Budgets shared by every bot process (Redis) or this one's alone (memory, the default). */
  budgets?: BudgetLimiter;
  /** This process's name in leases and version claims. */
  owner?: string;
  leaseTtlMs?: number;
  renewMs?: number;
}

export class TallySync {
  readonly engine: DeliveryEngine;
  readonly owner: string;
  private readonly platforms = new Map<string, ChatPlatform>();
  /** The messages of each held poll (keyed), read when the lease was taken and at each renewal. */
  private readonly messages = new Map<string, ChatMessage[]>();
  private readonly watching = new Map<string, () => void>();
  private readonly stops: (() => void)[] = [];
  private renewing?: Promise<void>;
  private readonly ttl: number;
  private readonly renewMs: number;

  constructor(private readonly deps: TallySyncOptions) {
    this.owner = deps.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.ttl = deps.leaseTtlMs ?? LEASE_TTL_MS;
    this.renewMs = deps.renewMs ?? LEASE_RENEW_MS;
    this.engine = new DeliveryEngine({
      platform: (name) => this.platforms.get(name),
      budgets: deps.budgets ?? new RateLimiterBudgets(),
      store: deps.core.chat,
      owner: this.owner,
      log: deps.log,
    });
  }

  private warn(err: unknown, what: string, fields: object = {}): void {
    if (this.deps.storeErrors && isStoreUnavailable(err)) this.deps.storeErrors.report(err, what);
    else {
      const error = loggableError(err);
      this.deps.log.warn(
        { error: typeof error === 'string' ? error : { ...error, stack: undefined }, ...fields },
        what,
      );
    }
  }

  register(p: ChatPlatform): void {
    this.platforms.set(p.name, p);
  }

  async start(): Promise<void> {
    const { events } = this.deps.core;
    this.stops.push(
      events.subscribe((s) => this.onSnapshot(s)),
      // After a bus outage, re-read every held poll: whatever changed meanwhile reaches its messages.
      events.onReconnect(() => {
        for (const pollId of this.watching.keys()) void events.refresh(pollId).catch(() => {});
      }),
    );
    const timer = setInterval(() => void this.renew(), this.renewMs);
    timer.unref();
    this.stops.push(() => clearInterval(timer));
    await this.renew();
  }

  /** Stops delivering and hands this process's polls to the others at once (their next renewal takes them). */
  async stop(): Promise<void> {
    for (const s of this.stops.splice(0)) s();
    for (const release of this.watching.values()) release();
    this.watching.clear();
    this.engine.stop();
    await this.deps.core.chat.releaseDeliveryLeases(this.owner).catch(() => undefined);
  }

  /** Polls whose messages this process keeps current (for tests and /metrics). */
  watched(): string[] {
    return [...this.watching.keys()];
  }

  /** A message was just posted: remember it; whichever process holds its poll brings it up to date. */
  async track(m: ChatMessage): Promise<void> {
    await this.deps.core.chat.saveChatMessage(m);
    const held = await this.deps.core.chat.acquireDeliveryLeases(this.owner, [m.poll_id], this.ttl);
    // Held by another process: its next renewal reads the poll's messages and finds this one.
    if (held.includes(m.poll_id)) await this.hold(m.poll_id, true);
  }

  /** Renews this process's leases and takes expired or new ones, one renewal at a time. */
  private renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    let held: Set<string>;
    let live: Set<string>;
    try {
      live = new Set(await this.deps.core.chat.pollsWithLiveMessages());
      held = new Set(await this.deps.core.chat.acquireDeliveryLeases(this.owner, [...live], this.ttl));
    } catch (err) {
      // Without the store this process cannot know whether its leases still hold: it stops sending until it does.
      this.warn(err, 'renewing chat delivery leases failed');
      this.letGo(new Set(this.watching.keys()), true);
      return;
    }
    const gone = [...this.watching.keys()].filter((id) => !held.has(id));
    // A poll that went to another process: forget its messages here. A poll that is simply done (closed, its winner
    // replies made) leaves the live set; whatever the engine still holds for it finishes here.
    this.letGo(new Set(gone.filter((id) => live.has(id))), true);
    this.letGo(new Set(gone.filter((id) => !live.has(id))), false);
    await Promise.all([...held].map((id) => this.hold(id, !this.watching.has(id))));
  }

  private letGo(pollIds: Set<string>, forget: boolean): void {
    for (const id of pollIds) {
      this.watching.get(id)?.();
      this.watching.delete(id);
      this.messages.delete(id);
    }
    if (forget) this.engine.forget(pollIds);
  }

  /**
   * Keeps a held poll's messages current. Newly held (`fresh`): watch the poll on the bus and bring every message
   * to the current version. Already held: offer the newest snapshot to messages that appeared since.
   */
  private async hold(pollId: string, fresh: boolean): Promise<void> {
    try {
      const before = new Set((this.messages.get(pollId) ?? []).map(messageKey));
      const list = await this.deps.core.chat.chatMessages(pollId);
      this.messages.set(pollId, list);
      const added = list.filter((m) => !before.has(messageKey(m)));
      if (fresh && !this.watching.has(pollId)) {
        const w = this.deps.core.events.watch(pollId);
        this.watching.set(pollId, w.release);
        await w.ready;
      }
      if (!fresh && added.length === 0) return;
      const s = await this.deps.core.snapshots.fresh(pollId);
      if (s) for (const m of fresh ? list : added) this.offer(m, s);
    } catch (err) {
      this.warn(err, 'reading chat messages failed', { poll: pollId });
    }
  }

  private offer(m: ChatMessage, s: Snapshot): void {
    if (this.platforms.has(m.platform)) this.engine.offer(m, s);
  }

  private onSnapshot(s: Snapshot): void {
    if (!this.watching.has(s.poll_id)) return; // not a poll this process holds
    for (const m of this.messages.get(s.poll_id) ?? []) this.offer(m, s);
  }
}
