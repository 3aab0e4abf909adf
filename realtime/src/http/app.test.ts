import { issueVoterToken, webVoter } from '@livevote/core';
import type {
  AddOptionResponse,
  CloseResponse,
  ErrorBody,
  PollListResponse,
  PollResponse,
  PollSummary,
  VoteResponse,
  VoteStats,
} from '@livevote/core/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, SECRET, type StoreKind, startTestServer, type TestServer } from '../../test/test-server.ts';

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const admin = { authorization: `Bearer ${ADMIN}` };

describe.each<StoreKind>(['postgres', 'pglite'])('REST API on %s', (kind) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(kind);
  });
  afterAll(async () => {
    await srv?.close();
  });

  const api = (path: string, init?: RequestInit) => fetch(`${srv.url}${path}`, init);

  async function newLunchPoll(settings: Record<string, unknown> = {}) {
    const res = await api(
      '/api/polls',
      json(
        {
          template: 'lunch',
          places: [
            {
              name: '김밥천국',
              label_en: 'Kimbap Heaven',
              menus: [{ name: '라볶이' }, { name: '참치김밥' }],
            },
            { name: '본죽', menus: [{ name: '전복죽' }] },
            { name: '명동교자', menus: [{ name: '칼국수' }] },
          ],
          settings,
        },
        admin,
      ),
    );
    expect(res.status).toBe(201);
    return ((await res.json()) as PollResponse).poll.id;
  }

  const version = async (id: string) =>
    ((await (await api(`/api/polls/${id}`)).json()) as PollResponse).snapshot.version;

  const vote = (
    id: string,
    emp: string,
    question_id: string,
    option_ids: string[],
    headers: Record<string, string> = {},
  ) => api(`/api/polls/${id}/votes?emp_no=${emp}`, json({ question_id, option_ids }, headers));

  it('shows a vote in GET /api/polls/:id and /api/votes/stats with a higher version', async () => {
    const id = await newLunchPoll();
    const v0 = await version(id);
    const res = await vote(id, '12345', 'place', ['p2']);
    expect(res.status).toBe(200);
    const body = (await res.json()) as VoteResponse;
    expect(body.version).toBeGreaterThan(v0);
    expect(body.option_ids).toEqual(['p2']);

    const poll = (await (await api(`/api/polls/${id}`)).json()) as PollResponse;
    expect(poll.poll.questions.map((q) => q.kind)).toEqual(['place', 'menu']);
    expect(poll.snapshot.version).toBe(body.version);
    expect(poll.snapshot.place_votes?.find((p) => p.place_id === 'p2')?.vote_count).toBe(1);

    const stats = (await (await api(`/api/votes/stats?poll_id=${id}`)).json()) as Record<string, unknown>;
    expect(Object.keys(stats).sort()).toEqual(['menu_votes', 'place_votes', 'poll_id', 'version']);
    expect(stats.version).toBe(body.version);
    expect(stats.place_votes).toContainEqual({ place_id: 'p2', place_name: '본죽', vote_count: 1 });
    expect(stats.menu_votes).toContainEqual({
      menu_id: 'm3',
      menu_name: '전복죽',
      place_id: 'p2',
      vote_count: 0,
    });
  });

  it('times each stage of a vote in its Server-Timing header, naming no voter', async () => {
    const id = await newLunchPoll();
    const res = await vote(id, '4242', 'place', ['p1']);
    expect(res.status).toBe(200);
    const timing = res.headers.get('server-timing') ?? '';
    expect(timing.split(', ').map((part) => part.replace(/;dur=\d+\.\d\d$/, ''))).toEqual([
      'edge',
      'rules',
      'commit',
      'snapshot',
    ]);
    expect(timing).not.toContain('4242');
  });

  it('takes identity from the X-Emp-No header too, and changes then retracts a vote', async () => {
    const id = await newLunchPoll();
    await vote(id, '777', 'place', ['p1']);
    const changed = await api(
      `/api/polls/${id}/votes`,
      json({ question_id: 'place', option_ids: ['p3'] }, { 'x-emp-no': '777' }),
    );
    const after = (await changed.json()) as PollResponse;
    expect(after.snapshot.place_votes?.map((p) => p.vote_count)).toEqual([0, 0, 1]);
    expect(after.snapshot.total_voters).toBe(1);
    const mine = await (await api(`/api/polls/${id}/my-votes?emp_no=777`)).json();
    expect(mine).toEqual({ ballots: { place: ['p3'] } });
    const retracted = await api(`/api/polls/${id}/votes/place?emp_no=777`, { method: 'DELETE' });
    expect(retracted.status).toBe(200);
    const r = (await retracted.json()) as VoteResponse;
    expect(r.option_ids).toEqual([]);
    expect(r.snapshot.place_votes?.map((p) => p.vote_count)).toEqual([0, 0, 0]);
    expect(r.snapshot.total_voters).toBe(0);
  });

  it('gives an exact tally for 200 concurrent distinct voters', async () => {
    const id = await newLunchPoll();
    const v0 = await version(id);
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => vote(id, String(50000 + i), 'place', [`p${(i % 3) + 1}`])),
    );
    expect(responses.map((r) => r.status).every((s) => s === 200)).toBe(true);
    const stats = (await (await api(`/api/votes/stats?poll_id=${id}`)).json()) as VoteStats;
    expect(stats.place_votes.map((p) => p.vote_count)).toEqual([67, 67, 66]);
    expect(stats.version).toBe(v0 + 200);
  });

  it('counts a repeated Idempotency-Key once and answers the repeat like the first', async () => {
    const id = await newLunchPoll();
    const key = { 'idempotency-key': 'click-42' };
    const first = await vote(id, '4242', 'place', ['p1'], key);
    const firstBody = (await first.json()) as VoteResponse;
    const repeats = await Promise.all(
      Array.from({ length: 5 }, () => vote(id, '4242', 'place', ['p1'], key)),
    );
    for (const r of repeats) {
      expect(r.status).toBe(200);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(((await r.json()) as VoteResponse).option_ids).toEqual(firstBody.option_ids);
    }
    const other = await vote(id, '4242', 'place', ['p2'], key);
    expect(other.status).toBe(422);
    expect(((await other.json()) as ErrorBody).error.code).toBe('idempotency_key_reused');
    const stats = (await (await api(`/api/votes/stats?poll_id=${id}`)).json()) as VoteStats;
    expect(stats.place_votes.map((p) => p.vote_count)).toEqual([1, 0, 0]);
    expect(stats.version).toBe(firstBody.version);
  });

  describe('refuses bad input with a status and a code, and changes nothing', () => {
    let id: string;
    let v0: number;
    beforeAll(async () => {
      id = await newLunchPoll();
      await vote(id, '1', 'place', ['p1']);
      v0 = await version(id);
    });

    const cases: [string, () => Promise<Response>, number, string][] = [
      ['unknown poll', () => vote('nosuchpoll', '2', 'place', ['p1']), 404, 'unknown_poll'],
      ['unknown option', () => vote(id, '2', 'place', ['p9']), 422, 'unknown_option'],
      ['unknown question', () => vote(id, '2', 'dessert', ['p1']), 422, 'unknown_question'],
      ['too many options', () => vote(id, '2', 'place', ['p1', 'p2']), 422, 'too_many_choices'],
      ['the same option twice', () => vote(id, '2', 'place', ['p1', 'p1']), 422, 'duplicate_option'],
      [
        'malformed JSON',
        () =>
          api(`/api/polls/${id}/votes?emp_no=2`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"question_id": "place",',
          }),
        400,
        'invalid_json',
      ],
      [
        'a 1 MB body',
        () => vote(id, '2', 'place', ['p1'].concat(Array.from({ length: 1 }, () => 'x'.repeat(1024 * 1024)))),
        413,
        'payload_too_large',
      ],
      [
        'a 10,000-character emp_no',
        () => vote(id, '1'.repeat(10_000), 'place', ['p2']),
        400,
        'invalid_emp_no',
      ],
      ['a non-digit emp_no', () => vote(id, 'abc', 'place', ['p2']), 400, 'invalid_emp_no'],
      [
        'no identity',
        () => api(`/api/polls/${id}/votes`, json({ question_id: 'place', option_ids: ['p2'] })),
        401,
        'missing_identity',
      ],
      [
        'a missing field',
        () => api(`/api/polls/${id}/votes?emp_no=2`, json({ option_ids: ['p2'] })),
        400,
        'invalid_body',
      ],
      [
        'an extra field',
        () =>
          api(
            `/api/polls/${id}/votes?emp_no=2`,
            json({ question_id: 'place', option_ids: ['p2'], admin: true }),
          ),
        400,
        'invalid_body',
      ],
      ['an empty choice', () => vote(id, '2', 'place', []), 400, 'invalid_body'],
      [
        'a non-JSON body',
        () => api(`/api/polls/${id}/votes?emp_no=2`, { method: 'POST', body: 'question_id=place' }),
        400,
        'invalid_body',
      ],
      [
        'a bad Idempotency-Key',
        () => vote(id, '2', 'place', ['p2'], { 'idempotency-key': 'x'.repeat(201) }),
        400,
        'invalid_idempotency_key',
      ],
      ['an unknown API route', () => api('/api/nope'), 404, 'not_found'],
    ];
    it.each(cases)('%s', async (_name, send, status, code) => {
      const res = await send();
      expect(res.status).toBe(status);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(5);
      expect(await version(id)).toBe(v0);
    });

    it('a closed poll', async () => {
      const closed = await newLunchPoll();
      expect((await api(`/api/polls/${closed}/close`, { method: 'POST', headers: admin })).status).toBe(200);
      const vc = await version(closed);
      const res = await vote(closed, '3', 'place', ['p1']);
      expect(res.status).toBe(409);
      expect(((await res.json()) as ErrorBody).error.code).toBe('poll_closed');
      expect(await version(closed)).toBe(vc);
    });
  });

  it('answers If-None-Match with 304 until the version moves', async () => {
    const id = await newLunchPoll();
    const first = await api(`/api/polls/${id}`);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"\d+"$/);
    expect((await api(`/api/polls/${id}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    // A proxy that compresses may weaken the tag; a list of tags matches when one does.
    expect((await api(`/api/polls/${id}`, { headers: { 'if-none-match': `W/${etag}` } })).status).toBe(304);
    expect((await api(`/api/polls/${id}`, { headers: { 'if-none-match': `"999", ${etag}` } })).status).toBe(
      304,
    );
    const stats = await api(`/api/votes/stats?poll_id=${id}`, { headers: { 'if-none-match': etag } });
    expect(stats.status).toBe(304);
    await vote(id, '9', 'place', ['p1']);
    const after = await api(`/api/polls/${id}`, { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
  });

  it('guards admin routes with ADMIN_TOKEN', async () => {
    const body = { template: 'choice', title: 'Team outing', options: ['Bowling', 'Karaoke'] };
    const none = await api('/api/polls', json(body));
    expect(none.status).toBe(401);
    expect(((await none.json()) as ErrorBody).error.code).toBe('admin_required');
    const wrong = await api('/api/polls', json(body, { authorization: 'Bearer not-the-token' }));
    expect(wrong.status).toBe(403);
    const id = await newLunchPoll();
    expect((await api(`/api/polls/${id}/close`, { method: 'POST' })).status).toBe(401);
    expect((await api(`/api/polls/${id}/export.csv`)).status).toBe(401);
    expect(await version(id)).toBe(0);
    // Listing polls: a wrong token is refused rather than treated as no token; a malformed filter is a 400.
    expect((await api('/api/polls', { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(
      403,
    );
    expect((await api('/api/polls?workspace=nope', { headers: admin })).status).toBe(400);
  });

  it('creates a choice poll, lists it, and closes it with a winner-ready snapshot', async () => {
    const res = await api(
      '/api/polls',
      json(
        { template: 'choice', title: 'Team outing', options: ['Bowling', 'Karaoke'], max_choices: 2 },
        admin,
      ),
    );
    expect(res.status).toBe(201);
    const { poll } = (await res.json()) as PollResponse;
    expect(poll.questions[0]?.max_choices).toBe(2);
    const list = (await (await api('/api/polls')).json()) as PollListResponse;
    expect(list.polls).toContainEqual(
      expect.objectContaining({ id: poll.id, template: 'choice', status: 'open' }),
    );
    await vote(poll.id, '5', 'q1', ['o1', 'o2']);
    const closed = (await (
      await api(`/api/polls/${poll.id}/close`, { method: 'POST', headers: admin })
    ).json()) as PollResponse;
    expect(closed.snapshot.status).toBe('closed');
    const again = (await (
      await api(`/api/polls/${poll.id}/close`, { method: 'POST', headers: admin })
    ).json()) as CloseResponse;
    expect(again.changed).toBe(false);
  });

  it('refuses a poll with invalid or duplicate options', async () => {
    const bad = await api(
      '/api/polls',
      json({ template: 'choice', title: 'x', options: ['only one'] }, admin),
    );
    expect(bad.status).toBe(400);
    const dup = await api(
      '/api/polls',
      json({ template: 'choice', title: 'x', options: ['Pizza', ' pizza'] }, admin),
    );
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as ErrorBody).error.code).toBe('option_exists');
  });

  it('refuses a close time that has already passed, and creates nothing', async () => {
    const listed = async () =>
      ((await (await api('/api/polls')).json()) as { polls: unknown[] }).polls.length;
    const before = await listed();
    const past = await api(
      '/api/polls',
      json(
        { template: 'choice', title: 'Yesterday', options: ['a', 'b'], closes_at: '2020-01-01T00:00:00Z' },
        admin,
      ),
    );
    expect(past.status).toBe(422);
    expect(((await past.json()) as ErrorBody).error).toEqual({
      code: 'closes_in_past',
      message: 'The close time has already passed: pick a time in the future, or leave it out.',
    });
    expect(await listed()).toBe(before);
    const soon = new Date(Date.now() + 60_000).toISOString();
    const later = await api(
      '/api/polls',
      json({ template: 'choice', title: 'Soon', options: ['a', 'b'], closes_at: soon }, admin),
    );
    expect(later.status).toBe(201);
  });

  it('refuses control characters and bidi overrides in titles and labels, naming the field', async () => {
    const refused = async (res: Response, field: string) => {
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as ErrorBody;
      expect(error.code).toBe('invalid_characters');
      expect(error.message).toMatch(
        new RegExp(`^${field.replace('.', '\\.')}: must not contain control characters`),
      );
    };
    const choice = (title: string, options: string[]) =>
      api('/api/polls', json({ template: 'choice', title, options }, admin));
    const before = ((await (await api('/api/polls', { headers: admin })).json()) as PollListResponse).polls;
    await refused(await choice('Lunch\u0000', ['A', 'B']), 'title');
    await refused(await choice('\nLunch', ['A', 'B']), 'title'); // checked before trimming
    await refused(await choice('Lunch', ['A', 'B\u202eteg']), 'options.1');
    for (const c of ['\u0007', '\t', '\u007f', '\u0085', '\u202a', '\u202d', '\u2066', '\u2069'])
      await refused(await choice('Lunch', [`A${c}x`, 'B']), 'options.0');
    const lunch = await api(
      '/api/polls',
      json({ template: 'lunch', places: [{ name: '본\u2067죽' }, { name: '명동교자' }] }, admin),
    );
    await refused(lunch, 'places.0.name');
    const after = ((await (await api('/api/polls', { headers: admin })).json()) as PollListResponse).polls;
    expect(after.length).toBe(before.length);

    const id = await newLunchPoll({ allow_add_options: true });
    await refused(
      await api(`/api/polls/${id}/questions/place/options?emp_no=5`, json({ label: 'Burger\rKing' })),
      'label',
    );
    // Everything else is welcome, surrounding spaces are trimmed: Hangul, emoji with joiners, accents, RTL script.
    const fine = await choice('  점심 뭐 먹지? 👩‍🍳  ', ['Crème brûlée', 'فلافل', '🍕']);
    expect(fine.status).toBe(201);
    expect(((await fine.json()) as PollResponse).poll.title).toBe('점심 뭐 먹지? 👩‍🍳');
  });

  it('exports CSV for the admin, without voters for anonymous polls', async () => {
    const open = await newLunchPoll();
    await vote(open, '321', 'place', ['p1']);
    const csv = await (await api(`/api/polls/${open}/export.csv`, { headers: admin })).text();
    expect(csv).toContain('voter');
    expect(csv).toContain('emp:321');
    expect(csv).toContain('김밥천국');

    const anon = await newLunchPoll({ anonymous: true });
    await vote(anon, '654', 'place', ['p2']);
    const res = await api(`/api/polls/${anon}/export.csv`, { headers: admin });
    expect(res.headers.get('content-type')).toContain('text/csv');
    const text = await res.text();
    expect(text).toContain('본죽');
    expect(text).not.toContain('654');
    expect(text.split('\r\n')[0]).not.toContain('voter');
  });

  it('hides counts until close when results are hidden', async () => {
    const id = await newLunchPoll({ results_hidden: true });
    const r = (await (await vote(id, '11', 'place', ['p1'])).json()) as PollResponse;
    expect(r.snapshot.results_hidden).toBe(true);
    expect(r.snapshot.leader).toBeNull();
    expect(r.snapshot.place_votes?.map((p) => p.vote_count)).toEqual([0, 0, 0]);
    await api(`/api/polls/${id}/close`, { method: 'POST', headers: admin });
    const after = (await (await api(`/api/polls/${id}`)).json()) as PollResponse;
    expect(after.snapshot.place_votes?.map((p) => p.vote_count)).toEqual([1, 0, 0]);
  });

  it('reveals hidden results before the close, for the admin only, and lists which polls hide them', async () => {
    const id = await newLunchPoll({ results_hidden: true });
    await vote(id, '12', 'place', ['p2']);
    const listed = (await (await api('/api/polls', { headers: admin })).json()) as { polls: PollSummary[] };
    expect(listed.polls.find((p) => p.id === id)?.results_hidden).toBe(true);
    expect((await api(`/api/polls/${id}/reveal`, { method: 'POST' })).status).toBe(401);
    const before = (await (await api(`/api/polls/${id}`)).json()) as PollResponse;
    const res = await api(`/api/polls/${id}/reveal`, { method: 'POST', headers: admin });
    expect(res.status).toBe(200);
    const r = (await res.json()) as { snapshot: PollResponse['snapshot']; changed: boolean };
    expect(r.changed).toBe(true);
    expect(r.snapshot.status).toBe('open');
    expect(r.snapshot.results_hidden).toBe(false);
    expect(r.snapshot.version).toBeGreaterThan(before.snapshot.version);
    expect(r.snapshot.place_votes?.map((p) => p.vote_count)).toEqual([0, 1, 0]);
    // once shown, a second reveal changes nothing; an unknown poll is a 404
    const again = (await (
      await api(`/api/polls/${id}/reveal`, { method: 'POST', headers: admin })
    ).json()) as {
      changed: boolean;
    };
    expect(again.changed).toBe(false);
    expect((await api('/api/polls/nosuchpoll00/reveal', { method: 'POST', headers: admin })).status).toBe(
      404,
    );
    const relisted = (await (await api('/api/polls', { headers: admin })).json()) as { polls: PollSummary[] };
    expect(relisted.polls.find((p) => p.id === id)?.results_hidden).toBeUndefined();
  });

  it('hides the turnout of a poll that hides results, unless it was created to show it', async () => {
    type Tally = { snapshot: { total_voters: number; questions: { voters: number }[] } };
    const turnout = async (id: string) => {
      const { snapshot } = (await (await api(`/api/polls/${id}`)).json()) as Tally;
      return [snapshot.total_voters, snapshot.questions[0]?.voters];
    };
    const hidden = await newLunchPoll({ results_hidden: true });
    const shown = await newLunchPoll({ results_hidden: true, show_turnout: true });
    for (const id of [hidden, shown]) {
      expect((await vote(id, '12', 'place', ['p1'])).status).toBe(200);
      expect((await vote(id, '13', 'place', ['p2'])).status).toBe(200);
    }
    expect(await turnout(hidden)).toEqual([0, 0]);
    expect(await turnout(shown)).toEqual([2, 2]);
    const poll = (await (await api(`/api/polls/${shown}`)).json()) as PollResponse;
    expect(poll.poll.settings).toMatchObject({ results_hidden: true, show_turnout: true });
    await api(`/api/polls/${hidden}/close`, { method: 'POST', headers: admin });
    expect(await turnout(hidden)).toEqual([2, 2]);
  });

  it('draws voters over time from the stored ballots, and keeps a hidden turnout hidden there too', async () => {
    type Timeline = { points: { at: string; voters: number }[] };
    const timeline = async (id: string) =>
      ((await (await api(`/api/polls/${id}/timeline`)).json()) as Timeline).points.map((p) => p.voters);
    const open = await newLunchPoll({ anonymous: true });
    const hidden = await newLunchPoll({ results_hidden: true });
    for (const id of [open, hidden]) {
      expect((await vote(id, '31', 'place', ['p1'])).status).toBe(200);
      expect((await vote(id, '32', 'place', ['p2'])).status).toBe(200);
      expect((await vote(id, '32', 'menu', ['m1'])).status).toBe(200);
    }
    expect(await timeline(open)).toEqual([1, 2]);
    expect(await timeline(hidden)).toEqual([]);
    const body = await (await api(`/api/polls/${open}/timeline`)).text();
    expect(body).not.toMatch(/emp|anon:|"31"|"32"/);
    expect((await api('/api/polls/nope/timeline')).status).toBe(404);
  });

  it('tells a bare emp_no its ballot only in ordinary polls; anonymous and hiding polls want a voter token', async () => {
    const mine = (id: string, who: string) => api(`/api/polls/${id}/my-votes?${who}`);
    const token = `token=${encodeURIComponent(issueVoterToken(SECRET, webVoter('21'), 600))}`;
    const ordinary = await newLunchPoll();
    const anonymous = await newLunchPoll({ anonymous: true });
    const hiding = await newLunchPoll({ results_hidden: true });
    for (const id of [ordinary, anonymous, hiding]) {
      expect((await vote(id, '21', 'place', ['p2'])).status).toBe(200);
      // A token vouches for the voter: their own choice, in every kind of poll.
      expect(await (await mine(id, token)).json()).toEqual({ ballots: { place: ['p2'] } });
    }
    expect(await (await mine(ordinary, 'emp_no=21')).json()).toEqual({ ballots: { place: ['p2'] } });
    for (const id of [anonymous, hiding]) {
      const refused = await mine(id, 'emp_no=21');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as ErrorBody).error.code).toBe('token_required');
    }
    // Once closed, a poll that hid its results shows them, and a voter their choice; an anonymous one never does.
    await api(`/api/polls/${hiding}/close`, { method: 'POST', headers: admin });
    await api(`/api/polls/${anonymous}/close`, { method: 'POST', headers: admin });
    expect(await (await mine(hiding, 'emp_no=21')).json()).toEqual({ ballots: { place: ['p2'] } });
    expect((await mine(anonymous, 'emp_no=21')).status).toBe(403);
    expect((await mine('nosuchpoll', token)).status).toBe(404);
    expect((await mine(ordinary, '')).status).toBe(401);
  });

  it('lets voters add an option when the poll allows it, then vote for it', async () => {
    const id = await newLunchPoll({ allow_add_options: true });
    const res = await api(`/api/polls/${id}/questions/place/options?emp_no=5`, json({ label: '버거킹' }));
    expect(res.status).toBe(201);
    const { option_id } = (await res.json()) as AddOptionResponse;
    expect((await vote(id, '5', 'place', [option_id])).status).toBe(200);
    const dup = await api(`/api/polls/${id}/questions/place/options?emp_no=6`, json({ label: '버거킹' }));
    expect(dup.status).toBe(409);
    const stats = (await (await api(`/api/votes/stats?poll_id=${id}`)).json()) as VoteStats;
    expect(stats.place_votes).toContainEqual(
      expect.objectContaining({ place_name: '버거킹', vote_count: 1 }),
    );
  });

  it('imports the directory so one person has one vote across platforms', async () => {
    const res = await api('/api/directory', {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...admin },
      body: 'platform,tenant,user_id,emp_no\nslack,T1,U42,4200\n',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ workspace: 'web', imported: 1, skipped: 0, held_elsewhere: [] });
    const id = await newLunchPoll();
    await vote(id, '4200', 'place', ['p1']);
    const { castVote } = await import('@livevote/core');
    const r = await castVote(srv.core, {
      pollId: id,
      questionId: 'place',
      optionIds: ['p2'],
      voter: { platform: 'slack', tenant: 'T1', user: 'U42' },
    });
    expect(r.ok && r.value.snapshot.total_voters).toBe(1);
    expect(r.ok && r.value.snapshot.place_votes?.map((p) => p.vote_count)).toEqual([0, 1, 0]);
    const bad = await api('/api/directory', {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...admin },
      body: 'slack,T1,U1,not-digits',
    });
    expect(bad.status).toBe(400);
  });

  it('answers /api/votes/stats without poll_id with the newest open lunch poll', async () => {
    const id = await newLunchPoll();
    const stats = (await (await api('/api/votes/stats')).json()) as VoteStats;
    expect(stats.poll_id).toBe(id);
    expect((await api('/api/votes/stats?poll_id=bad%20id')).status).toBe(400);
  });

  it('reports health and readiness', async () => {
    expect(await (await api('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await api('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { store: 'up', bus: 'up' } });
  });

  it('logged no unexpected server errors', () => {
    expect(srv.errors).toEqual([]);
  });
});

const PREVIOUS_SECRET = 'the-secret-before-rotation-0123456789-0123';

describe('REST API in signed mode', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer('pglite', { mode: 'signed', previousSecrets: [PREVIOUS_SECRET] });
  });
  afterAll(async () => srv?.close());
  const newSignedPoll = async () => {
    const created = await fetch(
      `${srv.url}/api/polls`,
      json({ template: 'choice', title: 'T', options: ['a', 'b'] }, admin),
    );
    return ((await created.json()) as PollResponse).poll.id;
  };
  const votersOf = async (id: string) =>
    ((await (await fetch(`${srv.url}/api/polls/${id}`)).json()) as PollResponse).snapshot.total_voters;

  it('requires a valid, unexpired voter token and ignores emp_no', async () => {
    const id = await newSignedPoll();
    const body = { question_id: 'q1', option_ids: ['o1'] };
    const byEmp = await fetch(`${srv.url}/api/polls/${id}/votes?emp_no=1`, json(body));
    expect(byEmp.status).toBe(401);
    expect(((await byEmp.json()) as ErrorBody).error.code).toBe('missing_token');

    const token = issueVoterToken(SECRET, { platform: 'slack', tenant: 'T1', user: 'U1' }, 600);
    const ok = await fetch(`${srv.url}/api/polls/${id}/votes?token=${encodeURIComponent(token)}`, json(body));
    expect(ok.status).toBe(200);

    const forged = issueVoterToken('another-secret-0123456789-0123456789', webVoter('1'), 600);
    const bad = await fetch(`${srv.url}/api/polls/${id}/votes`, json(body, { 'x-voter-token': forged }));
    expect(bad.status).toBe(401);
    const expired = issueVoterToken(SECRET, webVoter('2'), 60, new Date(Date.now() - 3_600_000));
    const old = await fetch(`${srv.url}/api/polls/${id}/votes`, json(body, { 'x-voter-token': expired }));
    expect(((await old.json()) as ErrorBody).error.code).toBe('expired_token');
    expect(await votersOf(id)).toBe(1);
  });

  it("holds a voter link to its workspace's polls (and the web's): another workspace's link changes nothing", async () => {
    const make = async (workspace: string) =>
      (
        (await (
          await fetch(
            `${srv.url}/api/polls`,
            json({ template: 'choice', title: 'T', options: ['a', 'b'], workspace }, admin),
          )
        ).json()) as PollResponse
      ).poll.id;
    const t111 = await make('slack:T111');
    const web = await make('web');
    const linkOf = (tenant: string, user: string) =>
      issueVoterToken(SECRET, { platform: 'slack', tenant, user, workspace: `slack:${tenant}` }, 600);
    const own = linkOf('T111', 'U1');
    const foreign = linkOf('T222', 'U9');
    const body = { question_id: 'q1', option_ids: ['o2'] };
    const as = (token: string, init: RequestInit = {}) => ({
      ...init,
      headers: { ...(init.headers as Record<string, string>), 'x-voter-token': token },
    });
    expect((await fetch(`${srv.url}/api/polls/${t111}/votes`, as(own, json(body)))).status).toBe(200);
    const refusals = [
      await fetch(`${srv.url}/api/polls/${t111}/votes`, as(foreign, json(body))),
      await fetch(`${srv.url}/api/polls/${t111}/votes/q1`, as(foreign, { method: 'DELETE' })),
      await fetch(`${srv.url}/api/polls/${t111}/my-votes`, as(foreign)),
      await fetch(`${srv.url}/api/polls/${t111}/questions/q1/options`, as(foreign, json({ label: 'c' }))),
      await fetch(`${srv.url}/api/polls/${t111}/headcount`, as(foreign, { method: 'POST' })),
      await fetch(`${srv.url}/api/nudges/opt-out?workspace=slack:T111`, as(foreign, { method: 'POST' })),
    ];
    for (const r of refusals) {
      expect(r.status).toBe(403);
      expect(((await r.json()) as ErrorBody).error.code).toBe('wrong_workspace');
    }
    expect(await votersOf(t111)).toBe(1);
    // The web workspace's polls take any signed link; a link issued before links named a workspace still works.
    expect((await fetch(`${srv.url}/api/polls/${web}/votes`, as(foreign, json(body)))).status).toBe(200);
    const legacy = issueVoterToken(SECRET, { platform: 'slack', tenant: 'T222', user: 'U8' }, 600);
    expect((await fetch(`${srv.url}/api/polls/${t111}/votes`, as(legacy, json(body)))).status).toBe(200);
    expect(await votersOf(t111)).toBe(2);
  });

  it('accepts a token signed before AUTH_SECRET was rotated (AUTH_SECRET_PREVIOUS) until it expires', async () => {
    const id = await newSignedPoll();
    const body = { question_id: 'q1', option_ids: ['o2'] };
    const before = issueVoterToken(PREVIOUS_SECRET, webVoter('31'), 600);
    const ok = await fetch(`${srv.url}/api/polls/${id}/votes`, json(body, { 'x-voter-token': before }));
    expect(ok.status).toBe(200);
    const lapsed = issueVoterToken(PREVIOUS_SECRET, webVoter('32'), 60, new Date(Date.now() - 3_600_000));
    const old = await fetch(`${srv.url}/api/polls/${id}/votes`, json(body, { 'x-voter-token': lapsed }));
    expect(((await old.json()) as ErrorBody).error.code).toBe('expired_token');
    expect(await votersOf(id)).toBe(1);
  });
});
