// Bus adapter over Redis pub/sub, one channel per poll (`<prefix>poll:<id>`): an instance subscribes only to the polls
// it watches, so Redis sends it nothing else. The caller owns both ioredis clients (a subscribed connection can't
// publish); ioredis re-subscribes every channel by itself after a reconnect.
import type { Redis } from 'ioredis';
import type { Bus, BusEvent, BusHandler } from '../ports/bus.ts';

export class RedisBus implements Bus {
  private readonly handlers = new Set<BusHandler>();
  private readonly reconnectHandlers = new Set<() => void>();
  private readonly watched = new Set<string>();
  private readonly channelPrefix: string;
  private wasReady = false;
  private lostSinceReady = false;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    prefix = 'livevote:',
  ) {
    this.channelPrefix = `${prefix}poll:`;
    sub.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(this.channelPrefix)) return;
      let event: BusEvent;
      try {
        event = JSON.parse(message) as BusEvent;
      } catch {
        return; // not ours; the channels are shared only by livevote instances
      }
      for (const h of this.handlers) h(event);
    });
    const lost = () => {
      if (this.wasReady) this.lostSinceReady = true;
    };
    sub.on('close', lost);
    pub.on('close', lost);
    const readyAgain = () => {
      if (!this.ready()) return;
      if (this.lostSinceReady) {
        this.lostSinceReady = false;
        // ioredis replays only subscriptions Redis had confirmed; a watch that began during the outage is renewed here.
        if (this.watched.size > 0)
          void this.sub.subscribe(...[...this.watched].map((id) => this.channel(id))).catch(() => {});
        for (const h of this.reconnectHandlers) h();
      }
      this.wasReady = true;
    };
    // ioredis re-subscribes by itself on reconnect; 'ready' on the subscriber comes after that.
    sub.on('ready', readyAgain);
    pub.on('ready', readyAgain);
  }

  /** Resolves once both connections are up (or immediately if they already are). */
  async start(): Promise<void> {
    await Promise.all([this.pub, this.sub].map((c) => (c.status === 'ready' ? undefined : c.ping())));
    this.wasReady = this.ready();
  }

  channel(pollId: string): string {
    return `${this.channelPrefix}${pollId}`;
  }

  async publish(event: BusEvent): Promise<void> {
    // Never queue while Redis is away: recovery re-reads versions from the store, so a dropped notice costs nothing.
    if (this.pub.status !== 'ready') return;
    await this.pub.publish(this.channel(event.poll_id), JSON.stringify(event)).catch(() => {});
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async watch(pollId: string): Promise<void> {
    this.watched.add(pollId);
    // While Redis is away ioredis queues the command and replays it (and every other subscription) on reconnect.
    await this.sub.subscribe(this.channel(pollId)).catch(() => {});
  }

  async unwatch(pollId: string): Promise<void> {
    if (!this.watched.delete(pollId)) return;
    await this.sub.unsubscribe(this.channel(pollId)).catch(() => {});
  }

  watching(): ReadonlySet<string> {
    return this.watched;
  }

  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  ready(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready';
  }
}
