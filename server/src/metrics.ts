// Prometheus metrics for /metrics (prom-client). The packages keep plain counters (hub.framesSent,
// updater.rateLimited, drain.delivered, …); this file turns them into metrics when Prometheus scrapes.
import type { Core, OutboxDrain, Store } from '@livevote/core';
import type { Gateway, Hub } from '@livevote/realtime';
import client from 'prom-client';

/** How long /metrics waits for a gauge read from the store before it answers NaN for it. */
const STORE_GAUGE_TIMEOUT_MS = 1_000;

export interface MetricSources {
  core: Core;
  hub?: Hub;
  gateway?: Gateway;
  drain?: OutboxDrain;
  chat?: {
    queueDepth(): number;
    destinations(): ReadonlyMap<
      string,
      { sent: number; retried: number; dropped: number; rateLimited: number }
    >;
  };
}

export class Metrics {
  readonly registry = new client.Registry();
  private readonly votes = new client.Counter({
    name: 'livevote_votes_total',
    help: 'Casts and retracts that reached Postgres: accepted (committed) or replayed (a repeated delivery)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly fanout = new client.Histogram({
    name: 'livevote_fanout_latency_seconds',
    help: 'From a snapshot reaching this instance to its last subscriber write (includes the merge window)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly busDelay = new client.Histogram({
    name: 'livevote_bus_delay_seconds',
    help: 'From a snapshot published on the bus (by any instance) to its arrival here',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private sources?: MetricSources;

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'livevote_' });
    const r = [this.registry];
    const self = this;
    new client.Gauge({
      name: 'livevote_ws_connections',
      help: 'Open WebSocket connections on this instance',
      registers: r,
      collect() {
        this.set(self.sources?.gateway?.connections() ?? 0);
      },
    });
    new client.Gauge({
      name: 'livevote_realtime_subscribers',
      help: 'WebSocket and SSE subscribers on this instance',
      registers: r,
      collect() {
        this.set(self.sources?.hub?.subscribers() ?? 0);
      },
    });
    this.monotonic('livevote_broadcasts_total', 'Snapshot broadcasts to the subscribers of a poll', () => {
      return self.sources?.hub?.broadcastCost.broadcasts;
    });
    this.monotonic(
      'livevote_broadcast_frame_seconds_total',
      'Time spent building (serialising and framing) the frames of broadcasts',
      () => self.sources?.hub?.broadcastCost.frameSeconds,
    );
    this.monotonic(
      'livevote_broadcast_write_seconds_total',
      'Time spent writing broadcasts to subscribers’ sockets',
      () => self.sources?.hub?.broadcastCost.writeSeconds,
    );
    this.monotonic(
      'livevote_frames_sent_total',
      'Frames written to subscribers',
      () => self.sources?.hub?.framesSent,
    );
    new client.Gauge({
      name: 'livevote_bus_watched_polls',
      help: 'Polls this instance receives from the bus (it has viewers or live chat messages for them)',
      registers: r,
      collect() {
        this.set(self.sources?.core.bus.watching().size ?? 0);
      },
    });
    this.monotonic(
      'livevote_bus_publishes_total',
      'Snapshots published on the bus (paced per poll: a burst of votes merges into few)',
      () => self.sources?.core.events.publishes,
    );
    // Read from the store: during a database outage (or a frozen one) they answer NaN within a second, and every
    // other metric still comes out — an outage is when the operator looks.
    const fromStore = (name: string, help: string, read: (s: MetricSources) => Promise<number>) =>
      new client.Gauge({
        name,
        help,
        registers: r,
        async collect() {
          if (!self.sources) return;
          const sources = self.sources;
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<number>((resolve) => {
            timer = setTimeout(() => resolve(Number.NaN), STORE_GAUGE_TIMEOUT_MS);
          });
          this.set(await Promise.race([read(sources).catch(() => Number.NaN), late]));
          clearTimeout(timer);
        },
      });
    fromStore(
      'livevote_outbox_pending',
      'Audit/archive rows waiting in Postgres for MongoDB (parked rows not included; NaN while the store is unreachable)',
      (s) => s.core.outbox.outboxDepth(),
    );
    fromStore(
      'livevote_outbox_parked',
      'Outbox rows MongoDB refused too often, set aside until `livevote outbox-retry` (NaN while the store is unreachable)',
      (s) => s.core.outbox.outboxParked(),
    );
    this.monotonic('livevote_outbox_delivered_total', 'Outbox rows delivered to the archive', () => {
      return self.sources?.drain?.delivered;
    });
    this.monotonic('livevote_outbox_failures_total', 'Failed outbox deliveries (archive down)', () => {
      return self.sources?.drain?.failed;
    });
    new client.Gauge({
      name: 'livevote_chat_update_queue',
      help: 'Chat tally messages waiting for their next update',
      registers: r,
      collect() {
        this.set(self.sources?.chat?.queueDepth() ?? 0);
      },
    });
    // Per destination (platform:channel): what the delivery engine sent, retried, dropped, and the 429s it met.
    const perDestination = (
      name: string,
      help: string,
      field: 'sent' | 'retried' | 'dropped' | 'rateLimited',
    ) => {
      const seen = new Map<string, number>();
      new client.Counter({
        name,
        help,
        labelNames: ['destination'],
        registers: r,
        collect() {
          for (const [destination, st] of self.sources?.chat?.destinations() ?? []) {
            const last = seen.get(destination) ?? 0;
            if (st[field] > last) this.inc({ destination }, st[field] - last);
            seen.set(destination, st[field]);
          }
        },
      });
    };
    perDestination('livevote_chat_sent_total', 'Chat updates and replies the platform accepted', 'sent');
    perDestination('livevote_chat_retried_total', 'Chat calls retried after a retryable failure', 'retried');
    perDestination(
      'livevote_chat_dropped_total',
      'Chat messages given up (permanent error, or retries spent)',
      'dropped',
    );
    perDestination('livevote_chat_rate_limited_total', 'HTTP 429 answers from Slack or Teams', 'rateLimited');
  }

  /** A counter mirrored from a number some component keeps increasing. */
  private monotonic(name: string, help: string, read: () => number | undefined): void {
    let last = 0;
    new client.Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const now = read() ?? last;
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  }

  attach(sources: MetricSources): void {
    this.sources = sources;
  }

  /**
   * The store with every committed cast counted. Refusals are not: most are decided before the store (unknown
   * option, too many choices) and show as 4xx in the request log instead.
   */
  countVotes(store: Store): Store {
    const votes = this.votes;
    const counted: Store = Object.create(store);
    counted.cast = async (cmd) => {
      const r = await store.cast(cmd);
      if (r.ok) votes.inc({ outcome: r.replayed ? 'replayed' : 'accepted' });
      return r;
    };
    return counted;
  }

  observeFanout = (seconds: number): void => {
    this.fanout.observe(seconds);
  };

  observeBusDelay = (seconds: number): void => {
    this.busDelay.observe(seconds);
  };

  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
