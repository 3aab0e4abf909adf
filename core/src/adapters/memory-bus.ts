// Bus adapter for one process (the embedded default): delivery is a microtask away, like a network hop, and only
// for watched polls, like the Redis adapter.
import type { Bus, BusEvent, BusHandler } from '../ports/bus.ts';

export class MemoryBus implements Bus {
  private readonly handlers = new Set<BusHandler>();
  private readonly watched = new Set<string>();

  async publish(event: BusEvent): Promise<void> {
    // Handlers get their own copy, as they would after a JSON round trip over Redis.
    const copy = structuredClone(event);
    queueMicrotask(() => {
      if (!this.watched.has(copy.poll_id)) return;
      for (const h of this.handlers) h(copy);
    });
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async watch(pollId: string): Promise<void> {
    this.watched.add(pollId);
  }

  async unwatch(pollId: string): Promise<void> {
    this.watched.delete(pollId);
  }

  watching(): ReadonlySet<string> {
    return this.watched;
  }

  onReconnect(): () => void {
    return () => {}; // never disconnects
  }

  ready(): boolean {
    return true;
  }
}
