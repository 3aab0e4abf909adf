import { describe, expect, it } from 'vitest';
import { webVoter } from '../../domain/voter.ts';
import type { CastCommand, CastOutcome } from '../../ports/store.ts';
import { CastBatcher } from './cast-batcher.ts';
import { storeError } from './store-errors.ts';

const cmd = (i: number): CastCommand => ({
  pollId: 'p',
  questionId: 'q1',
  voter: webVoter(String(i)),
  optionIds: [`o${i}`],
});
const okFor = (c: CastCommand): CastOutcome => ({
  ok: true,
  changed: true,
  replayed: false,
  optionIds: c.optionIds,
});

function controllable() {
  const calls: { cmds: CastCommand[]; resolve(o: CastOutcome[]): void; reject(e: unknown): void }[] = [];
  const run = (cmds: CastCommand[]) =>
    new Promise<CastOutcome[]>((resolve, reject) => calls.push({ cmds, resolve, reject }));
  return { calls, run };
}

/** The end of the current turn of the event loop, when the batcher sends what arrived in it. */
const turn = () => new Promise((r) => setImmediate(r));

describe('CastBatcher', () => {
  it('sends a cast alone, at the end of its turn, when nothing else arrived in it', async () => {
    const { calls, run } = controllable();
    const b = new CastBatcher(run, 2);
    void b.cast(cmd(1));
    await turn();
    expect(calls.map((c) => c.cmds.length)).toEqual([1]);
    void b.cast(cmd(2)); // a slot is still free: it goes alone too
    await turn();
    expect(calls.map((c) => c.cmds.length)).toEqual([1, 1]);
  });

  it('sends the casts of one turn together, even with slots free', async () => {
    const { calls, run } = controllable();
    const b = new CastBatcher(run, 4);
    for (let i = 1; i <= 3; i++) void b.cast(cmd(i));
    expect(calls).toHaveLength(0);
    await turn();
    expect(calls.map((c) => c.cmds.map((x) => x.optionIds[0]))).toEqual([['o1', 'o2', 'o3']]);
  });

  it('queues casts while every slot is busy and sends them together when one frees', async () => {
    const { calls, run } = controllable();
    const b = new CastBatcher(run, 1);
    const first = b.cast(cmd(1));
    await turn();
    const queued = [2, 3, 4].map((i) => b.cast(cmd(i)));
    await turn();
    expect(calls).toHaveLength(1);
    calls[0]?.resolve([okFor(cmd(1))]);
    await first;
    await Promise.resolve();
    expect(calls[1]?.cmds.map((c) => c.optionIds[0])).toEqual(['o2', 'o3', 'o4']);
    calls[1]?.resolve([2, 3, 4].map((i) => okFor(cmd(i))));
    // each caller gets its own outcome, by position
    expect((await Promise.all(queued)).map((o) => (o.ok ? o.optionIds[0] : ''))).toEqual(['o2', 'o3', 'o4']);
  });

  it('caps a batch and sends the rest in the next one', async () => {
    const { calls, run } = controllable();
    const b = new CastBatcher(run, 1, 2);
    for (let i = 0; i <= 5; i++) void b.cast(cmd(i));
    await turn();
    expect(calls[0]?.cmds).toHaveLength(2);
    calls[0]?.resolve([okFor(cmd(0)), okFor(cmd(1))]);
    await turn();
    expect(calls[1]?.cmds).toHaveLength(2);
  });

  it('rejects every cast of a failed batch and keeps serving later casts', async () => {
    const { calls, run } = controllable();
    const b = new CastBatcher(run, 1);
    const a = b.cast(cmd(1));
    await turn();
    calls[0]?.reject(new Error('connection lost'));
    await expect(a).rejects.toThrow('connection lost');
    const later = b.cast(cmd(2));
    await turn();
    calls[1]?.resolve([okFor(cmd(2))]);
    await expect(later).resolves.toMatchObject({ ok: true });
  });

  it('fails the queued casts at once when a batch finds the store unreachable, and only then', async () => {
    const { calls, run } = controllable();
    const b = new CastBatcher(run, 1);
    const first = b.cast(cmd(1));
    await turn();
    const queued = [2, 3].map((i) => b.cast(cmd(i)));
    await turn();
    calls[0]?.reject(storeError(new Error('Query read timeout')));
    await expect(first).rejects.toThrow('Query read timeout');
    for (const q of queued) await expect(q).rejects.toThrow('Query read timeout');
    expect(calls).toHaveLength(1); // nothing queued was sent into the outage

    // A failure of our own statement is no outage: the queue goes out as usual.
    const again = b.cast(cmd(4));
    await turn();
    const waiting = b.cast(cmd(5));
    await turn();
    calls[1]?.reject(new Error('lv_cast returned no row'));
    await expect(again).rejects.toThrow('no row');
    await turn();
    calls[2]?.resolve([okFor(cmd(5))]);
    await expect(waiting).resolves.toMatchObject({ ok: true });
  });

  it('rejects instead of hanging when the batch returns too few outcomes', async () => {
    const { calls, run } = controllable();
    const b = new CastBatcher(run, 1);
    const a = b.cast(cmd(1));
    await turn();
    calls[0]?.resolve([]);
    await expect(a).rejects.toThrow('too few outcomes');
  });
});
