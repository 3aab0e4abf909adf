// Adaptive group commit for casts. Casts wait for the end of the current turn of the event loop (a setImmediate:
// when idle, well under a millisecond; behind a broadcast being written, up to one of its 2 ms slices) and leave
// together on a free slot; while every slot is busy they queue and leave together when one frees. Under
// load this turns N commits into N/batch, which is where a 2-core Postgres spends its time. Sending each arrival
// alone whenever a slot was free kept most slots busy with one-cast transactions: a burst of voters answered by one
// shared snapshot read comes back in the same turn, and its first few each took a slot of their own.
import type { CastCommand, CastOutcome } from '../../ports/store.ts';
import { isStoreUnavailable } from './store-errors.ts';

interface Pending {
  cmd: CastCommand;
  resolve(outcome: CastOutcome): void;
  reject(err: unknown): void;
}

export type RunBatch = (cmds: CastCommand[]) => Promise<CastOutcome[]>;

export class CastBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: RunBatch,
    private readonly slots: number,
    private readonly maxBatch = 256,
  ) {}

  cast(cmd: CastCommand): Promise<CastOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ cmd, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.inFlight < this.slots && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.run(batch.map((p) => p.cmd))
        .then(
          (outcomes) => {
            batch.forEach((p, i) => {
              const o = outcomes[i];
              if (o) p.resolve(o);
              else p.reject(new Error('cast batch returned too few outcomes'));
            });
          },
          (err: unknown) => {
            for (const p of batch) p.reject(err);
            // Postgres is unreachable: the queued casts would each wait out a whole timeout only to fail the same
            // way. None of them was sent, so failing them now is safe, and their callers hear "try again" at once.
            if (isStoreUnavailable(err)) for (const p of this.queue.splice(0)) p.reject(err);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
