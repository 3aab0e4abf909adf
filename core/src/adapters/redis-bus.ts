// Bus adapter over Redis pub/sub. The caller owns both ioredis clients (a subscribed connection can't publish).
import type { Redis } from 'ioredis';
import type { Bus, BusEvent, BusHandler } from '../ports/bus.ts';

export class RedisBus implements Bus {
  private readonly handlers = new Set<BusHandler>();
  private readonly reconnectHandlers = new Set<() => void>();
  private readonly channel: string;
  private wasReady = false;
  private lostSinceReady = false;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    prefix = 'livevote:',
  ) {
    this.channel = `${prefix}events`;
    sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let event: BusEvent;
      try {
        event = JSON.parse(message) as BusEvent;
      } catch {
        return; // not ours; the channel is shared only by livevote instances
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
        for (const h of this.reconnectHandlers) h();
      }
      this.wasReady = true;
    };
    // ioredis re-subscribes by itself on reconnect; 'ready' on the subscriber comes after that.
    sub.on('ready', readyAgain);
    pub.on('ready', readyAgain);
  }

  /** Subscribes; resolves once Redis confirmed. */
  async start(): Promise<void> {
    await this.sub.subscribe(this.channel);
    this.wasReady = this.ready();
  }

  async publish(event: BusEvent): Promise<void> {
    // Never queue while Redis is away: recovery re-reads versions from the store, so a dropped notice costs nothing.
    if (this.pub.status !== 'ready') return;
    await this.pub.publish(this.channel, JSON.stringify(event)).catch(() => {});
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  ready(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready';
  }
}
