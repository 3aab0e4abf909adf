import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ANONYMITY_KEY } from '../../testing/index.ts';
import { MemoryBus } from '../adapters/memory-bus.ts';
import { createPgliteStore } from '../adapters/pglite/pglite-store.ts';
import type { Voter } from '../domain/voter.ts';
import type { Admission, RateLimit } from '../ports/rate-limit.ts';
import type { Store } from '../ports/store.ts';
import { castVote } from './cast-vote.ts';
import { createChatPoll } from './chat-polls.ts';
import { type Core, createCore } from './core.ts';
import { closePoll } from './manage-polls.ts';

/** Lets each key act `allowance` times, then refuses. */
class Allowance implements RateLimit {
  readonly keys: string[] = [];
  constructor(private readonly allowance: number) {}
  async take(key: string): Promise<Admission> {
    this.keys.push(key);
    return this.keys.filter((k) => k === key).length <= this.allowance
      ? { ok: true }
      : { ok: false, retryAfterMs: 2_500 };
  }
}

describe('createChatPoll', () => {
  let db: PGlite;
  let store: Store;
  let core: Core;
  const limit = new Allowance(2);
  const alice: Voter = { platform: 'slack', tenant: 'T1', user: 'UALICE' };
  const bob: Voter = { platform: 'slack', tenant: 'T1', user: 'UBOB' };
  beforeAll(async () => {
    db = await PGlite.create();
    store = await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY });
    core = createCore(store, new MemoryBus(), { pollLimit: limit });
  });
  afterAll(async () => {
    core.events.stop();
    await db.close();
  });

  const quick = (who: Voter, question: string) =>
    createChatPoll(core, 'slack:T1', who, { template: 'choice', question, options: ['A', 'B'] });

  it('puts the poll in the chat’s workspace, made by the person who asked', async () => {
    const r = await quick(alice, 'Lunch?');
    expect(r.ok && r.value.poll.workspace).toBe('slack:T1');
    expect(r.ok && (await store.pollCreator(r.value.poll.id))).toBe('slack:T1:UALICE');
  });

  it('caps the polls one person makes from chat, and creates nothing when refused', async () => {
    expect((await quick(alice, 'Second?')).ok).toBe(true);
    const before = (await store.listPolls({ workspace: 'slack:T1' })).length;
    const refused = await quick(alice, 'Third?');
    expect(refused).toMatchObject({ ok: false, reason: 'rate_limited', retryAfterMs: 2_500 });
    expect(!refused.ok && refused.message).toContain('try again in 3 s');
    expect((await store.listPolls({ workspace: 'slack:T1' })).length).toBe(before);
    // Someone else in the same workspace is not held back by it.
    expect((await quick(bob, 'Bob’s?')).ok).toBe(true);
  });

  it("lets a workspace's admin manage that workspace's polls only, and a voter link act in its own workspace only", async () => {
    const r = await createChatPoll(core, 'slack:T1', bob, {
      template: 'choice',
      question: 'Q',
      options: ['A', 'B'],
    });
    if (!r.ok) throw new Error(r.message);
    const id = r.value.poll.id;
    const vote = (voter: Voter) => castVote(core, { pollId: id, questionId: 'q1', optionIds: ['o1'], voter });
    const foreignLink: Voter = { platform: 'slack', tenant: 'T2', user: 'U9', workspace: 'slack:T2' };
    expect(await vote(foreignLink)).toMatchObject({ ok: false, reason: 'wrong_workspace' });
    expect(await vote({ ...foreignLink, workspace: 'slack:T1' })).toMatchObject({ ok: true });
    const otherAdmin = { kind: 'voter', key: 'teams:X:UADMIN', adminOf: 'teams:X' } as const;
    expect(await closePoll(core, id, otherAdmin)).toMatchObject({ ok: false, reason: 'not_allowed' });
    expect((await store.getPoll(id))?.status).toBe('open');
    expect(await closePoll(core, id, { ...otherAdmin, adminOf: 'slack:T1' })).toMatchObject({ ok: true });
    expect((await store.getPoll(id))?.status).toBe('closed');
  });
});
