// A Bus for unit tests: records what is published and watched, and hands in events as if another instance had
// published them. Delivers nothing by itself.
import type { Bus, BusEvent, BusHandler } from '../src/ports/bus.ts';

export class RecordingBus implements Bus {
  readonly published: BusEvent[] = [];
  private readonly handlers = new Set<BusHandler>();
  private readonly watched = new Set<string>();

  async publish(event: BusEvent): Promise<void> {
    this.published.push(structuredClone(event));
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
    return () => {};
  }
  ready(): boolean {
    return true;
  }
  /** An event from another instance. */
  arrive(event: BusEvent): void {
    for (const h of this.handlers) h(structuredClone(event));
  }
}
