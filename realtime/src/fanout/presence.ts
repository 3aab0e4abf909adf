// Who is watching and who is voting, per poll, summed over every instance through the bus. Only counts travel:
// an instance says "poll P: 12 online here, 2 voting here"; nobody's identity leaves the process.
import type { Bus, BusEvent } from '@livevote/core';

/** A `voting` frame counts for this long unless repeated (the ballot is open on someone's screen). */
export const VOTING_TTL_MS = 5_000;
/** Instances repeat their counts this often; a count not repeated within REMOTE_TTL_MS is dropped (instance died). */
export const HEARTBEAT_MS = 3_000;
export const REMOTE_TTL_MS = 10_000;

interface LocalPoll {
  online: number;
  voting: Map<string, number>; // subscriber id -> expiry
}

export class Presence {
  private readonly local = new Map<string, LocalPoll>();
  private readonly remote = new Map<
    string,
    Map<string, { online: number; voting: number; expires: number }>
  >();
  private readonly dirty = new Set<string>();
  private lastHeartbeat = 0;

  constructor(
    private readonly bus: Bus,
    readonly instance: string,
    private readonly changed: (pollId: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  setOnline(pollId: string, online: number): void {
    const p = this.localPoll(pollId);
    if (p.online === online) return;
    p.online = online;
    if (online === 0 && p.voting.size === 0) this.local.delete(pollId);
    this.touch(pollId);
  }

  voting(pollId: string, subscriberId: string): void {
    const p = this.localPoll(pollId);
    const isNew = !p.voting.has(subscriberId);
    p.voting.set(subscriberId, this.now() + VOTING_TTL_MS);
    if (isNew) this.touch(pollId);
  }

  /** A subscriber left: it is no longer voting anywhere. */
  forget(subscriberId: string): void {
    for (const [pollId, p] of this.local) if (p.voting.delete(subscriberId)) this.touch(pollId);
  }

  totals(pollId: string): { online: number; voting: number } {
    const l = this.local.get(pollId);
    let online = l?.online ?? 0;
    let voting = l?.voting.size ?? 0;
    const t = this.now();
    for (const r of this.remote.get(pollId)?.values() ?? []) {
      if (r.expires < t) continue;
      online += r.online;
      voting += r.voting;
    }
    return { online, voting };
  }

  receive(e: Extract<BusEvent, { type: 'presence' }>): void {
    if (e.instance === this.instance) return;
    let m = this.remote.get(e.poll_id);
    if (!m) {
      m = new Map();
      this.remote.set(e.poll_id, m);
    }
    const before = m.get(e.instance);
    m.set(e.instance, { online: e.online, voting: e.voting, expires: this.now() + REMOTE_TTL_MS });
    if (before?.online !== e.online || before?.voting !== e.voting) this.changed(e.poll_id);
  }

  /** Runs every few hundred ms: expires votings and dead instances, publishes what changed (and a heartbeat). */
  tick(): void {
    const t = this.now();
    for (const [pollId, p] of this.local) {
      for (const [id, exp] of p.voting) {
        if (exp < t) {
          p.voting.delete(id);
          this.touch(pollId);
        }
      }
    }
    for (const [pollId, m] of this.remote) {
      for (const [instance, r] of m) {
        if (r.expires < t) {
          m.delete(instance);
          this.changed(pollId);
        }
      }
      if (m.size === 0) this.remote.delete(pollId);
    }
    const heartbeat = t - this.lastHeartbeat >= HEARTBEAT_MS;
    if (heartbeat) this.lastHeartbeat = t;
    const toSend = heartbeat ? new Set([...this.local.keys(), ...this.dirty]) : this.dirty;
    for (const pollId of toSend) {
      const p = this.local.get(pollId);
      void this.bus.publish({
        type: 'presence',
        poll_id: pollId,
        instance: this.instance,
        online: p?.online ?? 0,
        voting: p?.voting.size ?? 0,
      });
      if (p && p.online === 0 && p.voting.size === 0) this.local.delete(pollId);
    }
    this.dirty.clear();
  }

  private localPoll(pollId: string): LocalPoll {
    let p = this.local.get(pollId);
    if (!p) {
      p = { online: 0, voting: new Map() };
      this.local.set(pollId, p);
    }
    return p;
  }

  private touch(pollId: string): void {
    this.dirty.add(pollId);
    this.changed(pollId);
  }
}
