// Bridges a platform of the delivery contract to the tally sync's older interface (update → SendResult) until the
// delivery engine replaces it; then this file goes and the engine registers the contract platform itself.
import type { ChatPlatform } from '../delivery/contract.ts';
import type { SendResult } from '../tally/message-updater.ts';
import type { ChatPlatform as LegacyChatPlatform } from '../tally/tally-sync.ts';

export class DeliveryError extends Error {
  constructor(readonly reason: string) {
    super(`delivery failed: ${reason}`);
  }
}

/** ok → ok; retry with Retry-After → wait that long; permanent → gone; any other retry → throw (retried later). */
export function legacyPlatform(p: ChatPlatform): LegacyChatPlatform {
  // The old updater forgets a gone message, then takes it up again with the next vote: remember it here.
  const gone = new Set<string>();
  const key = (m: { channel: string; message_id: string }) => `${m.channel}\n${m.message_id}`;
  return {
    name: p.name,
    async update(m, s): Promise<SendResult> {
      if (gone.has(key(m))) return { ok: false, gone: true };
      const o = await p.update(m, s);
      if (o.ok) return { ok: true };
      if (o.kind === 'permanent') {
        gone.add(key(m));
        return { ok: false, gone: true };
      }
      if (o.retryAfterMs !== undefined) return { ok: false, retryAfterMs: o.retryAfterMs };
      throw new DeliveryError(o.reason);
    },
    async announceWinner(m, s): Promise<void> {
      const o = await p.announceWinner(m, s);
      if (!o.ok) throw new DeliveryError(o.reason);
    },
  };
}
