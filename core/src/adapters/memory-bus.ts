// Bus adapter for one process (the embedded default): delivery is a microtask away, like a network hop.
import type { Bus, BusEvent, BusHandler } from '../ports/bus.ts';

export class MemoryBus implements Bus {
  private readonly handlers = new Set<BusHandler>();

  async publish(event: BusEvent): Promise<void> {
    // Handlers get their own copy, as they would after a JSON round trip over Redis.
    const copy = structuredClone(event);
    queueMicrotask(() => {
      for (const h of this.handlers) h(copy);
    });
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onReconnect(): () => void {
    return () => {}; // never disconnects
  }

  ready(): boolean {
    return true;
  }
}
