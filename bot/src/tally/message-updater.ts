// Keeps chat tally messages current within platform limits: at most one update per message per interval (1 s),
// the first change after a quiet spell goes at once, later ones merge into the newest snapshot, a 429 pauses that
// message for its Retry-After, and whatever happens the newest state is sent last. Platform-neutral.
import type { Snapshot } from '@livevote/core/protocol';

export type SendResult = { ok: true } | { ok: false; retryAfterMs: number } | { ok: false; gone: true };

export interface UpdaterOptions<T> {
  send: (target: T, snapshot: Snapshot) => Promise<SendResult>;
  minIntervalMs?: number;
  onError?: (err: unknown, target: T) => void;
  /** A failed send (not a 429) is retried after this long; the newest snapshot is kept meanwhile. */
  retryMs?: number;
}

interface State<T> {
  target: T;
  sentVersion: number;
  pending?: Snapshot;
  lastSentAt: number;
  blockedUntil: number;
  timer?: NodeJS.Timeout;
  inflight?: Promise<void>;
}

export class MessageUpdater<T> {
  private readonly states = new Map<string, State<T>>();
  private readonly minInterval: number;
  /** 429 answers seen, for /metrics and tests. */
  rateLimited = 0;

  constructor(private readonly o: UpdaterOptions<T>) {
    this.minInterval = o.minIntervalMs ?? 1_000;
  }

  offer(key: string, target: T, snapshot: Snapshot): void {
    let s = this.states.get(key);
    if (!s) {
      s = { target, sentVersion: -1, lastSentAt: Number.NEGATIVE_INFINITY, blockedUntil: 0 };
      this.states.set(key, s);
    }
    if (snapshot.version <= Math.max(s.sentVersion, s.pending?.version ?? -1)) return;
    s.pending = snapshot;
    this.schedule(s);
  }

  /** Messages waiting for an update (a gauge for /metrics). */
  queueDepth(): number {
    let n = 0;
    for (const s of this.states.values()) if (s.pending || s.inflight) n++;
    return n;
  }

  /** Sends everything pending now, ignoring the interval (drain on shutdown); waits for sends in flight. */
  async flush(): Promise<void> {
    for (const s of this.states.values()) {
      clearTimeout(s.timer);
      s.timer = undefined;
      if (s.inflight) await s.inflight;
      if (s.pending && Date.now() >= s.blockedUntil) await this.run(s);
    }
  }

  stop(): void {
    for (const s of this.states.values()) clearTimeout(s.timer);
    this.states.clear();
  }

  private schedule(s: State<T>): void {
    if (s.timer || s.inflight || !s.pending) return;
    const due = Math.max(s.lastSentAt + this.minInterval, s.blockedUntil);
    s.timer = setTimeout(
      () => {
        s.timer = undefined;
        void this.run(s);
      },
      Math.max(0, due - Date.now()),
    );
  }

  private run(s: State<T>): Promise<void> {
    const snapshot = s.pending;
    if (!snapshot || s.inflight) return s.inflight ?? Promise.resolve();
    s.pending = undefined;
    s.inflight = (async () => {
      try {
        const r = await this.o.send(s.target, snapshot);
        if (r.ok) s.sentVersion = Math.max(s.sentVersion, snapshot.version);
        else if ('gone' in r) {
          for (const [k, v] of this.states) if (v === s) this.states.delete(k);
          return;
        } else {
          this.rateLimited++;
          s.blockedUntil = Date.now() + r.retryAfterMs;
          if (!s.pending) s.pending = snapshot;
        }
      } catch (err) {
        this.o.onError?.(err, s.target);
        s.blockedUntil = Date.now() + (this.o.retryMs ?? 2_000);
        if (!s.pending) s.pending = snapshot;
      } finally {
        // The interval counts from when the platform answered, not from when we asked: the platform measures
        // arrivals, and a slow request followed by a fast one would otherwise land closer than the interval.
        s.lastSentAt = Date.now();
        s.inflight = undefined;
      }
      this.schedule(s);
    })();
    return s.inflight;
  }
}
