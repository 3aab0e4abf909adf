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
  return {
    name: p.name,
    async update(m, s): Promise<SendResult> {
      const o = await p.update(m, s);
      if (o.ok) return { ok: true };
      if (o.kind === 'permanent') return { ok: false, gone: true };
      if (o.retryAfterMs !== undefined) return { ok: false, retryAfterMs: o.retryAfterMs };
      throw new DeliveryError(o.reason);
    },
    async announceWinner(m, s): Promise<void> {
      const o = await p.announceWinner(m, s);
      if (!o.ok) throw new DeliveryError(o.reason);
    },
  };
}
