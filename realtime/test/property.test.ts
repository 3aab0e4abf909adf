// Property tests for the wire protocol and the REST bodies (fast-check): whatever a client sends, the server never
// crashes or answers 500, every refusal is a coded error, and a tally changes only when the request was valid.
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase, testPrefix } from '@livevote/core/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createLunchPoll, type Instance, startInstance, TestClient } from './cluster.ts';

const RUNS = 60;
const admin = { authorization: `Bearer ${ADMIN}` };

/** JSON values as clients might send them: nested junk, plus near-misses of the real shapes. */
const junk = fc.jsonValue({ maxDepth: 3 });
const idLike = fc.oneof(
  fc.constantFrom('place', 'menu', 'q1', 'p1', 'p2', 'p3', 'm1', 'm2', 'x1', ''),
  fc.string({ maxLength: 70 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
const voteBody = fc.oneof(
  junk,
  fc.record(
    { question_id: fc.oneof(idLike, junk), option_ids: fc.oneof(fc.array(idLike, { maxLength: 4 }), junk) },
    { requiredKeys: [] },
  ),
  fc.record({ question_id: idLike, option_ids: fc.array(idLike, { maxLength: 3 }), extra: junk }),
);
const label = fc.oneof(fc.string({ maxLength: 130 }), fc.string({ unit: 'binary', maxLength: 20 }), junk);
const pollBody = fc.oneof(
  junk,
  fc.record(
    {
      template: fc.oneof(fc.constantFrom('choice', 'lunch'), junk),
      title: label,
      options: fc.oneof(fc.array(label, { maxLength: 4 }), junk),
      places: fc.oneof(
        fc.array(fc.record({ name: label, menus: fc.array(fc.record({ name: label })) })),
        junk,
      ),
      settings: fc.oneof(fc.record({ anonymous: fc.oneof(fc.boolean(), junk) }), junk),
      closes_at: fc.oneof(
        fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
        junk,
      ),
    },
    { requiredKeys: [] },
  ),
);

const isCodedError = (body: unknown) => {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof e?.code === 'string' && e.code.length > 0 && typeof e.message === 'string';
};

describe('random input never breaks the server', () => {
  let db: TestDatabase;
  let node: Instance;
  let pollId: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    node = await startInstance(db.url, TEST_REDIS_URL, testPrefix());
    pollId = await createLunchPoll(node.url);
  });
  afterAll(async () => {
    await node?.stop();
    await db?.drop();
  });

  const version = async () =>
    ((await (await fetch(`${node.url}/api/polls/${pollId}`)).json()) as { snapshot: { version: number } })
      .snapshot.version;

  it('answers every vote body with 200 or a coded 4xx, and moves the tally only on 200', async () => {
    let emp = 100;
    await fc.assert(
      fc.asyncProperty(voteBody, async (body) => {
        const before = await version();
        const res = await fetch(`${node.url}/api/polls/${pollId}/votes?emp_no=${emp++}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const answer = (await res.json()) as unknown;
        const after = await version();
        if (res.status === 200) return after === before + 1;
        return res.status >= 400 && res.status < 500 && isCodedError(answer) && after === before;
      }),
      { numRuns: RUNS },
    );
  });

  it('answers every create-poll body with 201 or a coded 400, and creates a poll only on 201', async () => {
    const count = async () =>
      ((await (await fetch(`${node.url}/api/polls`, { headers: admin })).json()) as { polls: unknown[] })
        .polls.length;
    await fc.assert(
      fc.asyncProperty(pollBody, async (body) => {
        const before = await count();
        const res = await fetch(`${node.url}/api/polls`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...admin },
          body: JSON.stringify(body),
        });
        const answer = (await res.json()) as unknown;
        const after = await count();
        if (res.status === 201) return after === before + 1;
        return res.status >= 400 && res.status < 500 && isCodedError(answer) && after === before;
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a label with a control character or a bidi override with 400 invalid_characters, creating nothing', async () => {
    const forbidden = fc.constantFrom('\u0000', '\u0007', '\n', '\t', '\u007f', '\u0085', '\u202e', '\u2066');
    const tainted = fc
      .tuple(fc.string({ minLength: 1, maxLength: 20 }), forbidden, fc.string({ maxLength: 20 }))
      .map(([a, bad, b]) => `${a}${bad}${b}`);
    const count = async () =>
      ((await (await fetch(`${node.url}/api/polls`, { headers: admin })).json()) as { polls: unknown[] })
        .polls.length;
    await fc.assert(
      fc.asyncProperty(tainted, fc.nat(2), async (label, where) => {
        const labels = ['Title', 'Yes', 'No'];
        labels[where] = label;
        const before = await count();
        const res = await fetch(`${node.url}/api/polls`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...admin },
          body: JSON.stringify({ template: 'choice', title: labels[0], options: labels.slice(1) }),
        });
        const answer = (await res.json()) as { error?: { code?: string } };
        return (
          res.status === 400 && answer.error?.code === 'invalid_characters' && (await count()) === before
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('answers raw bytes of any content type with a coded 4xx, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'text/csv',
          'application/x-www-form-urlencoded',
          '',
        ),
        fc.constantFrom(`/api/polls/${pollId}/votes?emp_no=5`, '/api/polls', '/api/directory'),
        async (bytes, type, path) => {
          const res = await fetch(`${node.url}${path}`, {
            method: 'POST',
            headers: { ...(type ? { 'content-type': type } : {}), ...admin },
            body: bytes,
          });
          const answer = (await res.json().catch(() => null)) as unknown;
          return res.status < 500 && (res.status < 400 || isCodedError(answer));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers every WebSocket frame with a coded error or its reply, and stays up', async () => {
    const frame = fc.oneof(
      fc.string({ maxLength: 300 }),
      junk.map((v) => JSON.stringify(v)),
      fc
        .record({
          type: fc.oneof(
            fc.constantFrom('ping', 'subscribe', 'unsubscribe', 'resync', 'voting', 'nope'),
            junk,
          ),
          data: fc.oneof(
            fc.record({ poll_id: fc.oneof(idLike, junk), version: junk }, { requiredKeys: [] }),
            junk,
          ),
        })
        .map((v) => JSON.stringify(v)),
    );
    const before = await version();
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 4 }), async (frames) => {
        const client = await TestClient.open(`${node.ws}?emp_no=77&poll_id=${pollId}`);
        await expect.poll(() => client.of('connection_ack').length).toBe(1);
        for (const f of frames) client.ws.send(f);
        // A ping after the junk: its pong proves every earlier frame was handled (frames are processed in order).
        client.send('ping');
        await expect.poll(() => client.of('pong').length > 0 || client.closed !== undefined).toBe(true);
        const errorsCoded = client
          .of('error')
          .every((e) => e.data.code.length > 0 && e.data.message.length > 0);
        client.close();
        return errorsCoded && (client.closed === undefined || client.closed.code === 1008);
      }),
      { numRuns: 25 },
    );
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    expect(await version()).toBe(before); // frames never vote
  });
});
