// The vote fast path answers exactly as the Express route would, and leaves Express every request it does not take.
// The same request is sent twice: as is (the fast path) and with a trailing slash (a spelling only Express takes).
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { type Core, createPoll } from '@livevote/core';
import { type EmbeddedCore, embeddedCore } from '@livevote/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from './app.ts';
import { limitBytes } from './fast-votes.ts';

const ADMIN = 'fast-votes-admin-token-0123';

describe('the vote fast path', () => {
  let embedded: EmbeddedCore;
  let core: Core;
  let server: Server;
  let base: string;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    embedded = await embeddedCore();
    core = embedded.core;
    const log = { info: (o: Record<string, unknown>) => void lines.push(o), warn() {}, error() {} };
    server = createServer(createHttpApp({ core, auth: { mode: 'open', adminToken: ADMIN }, log }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await embedded.close();
  });

  async function newPoll(options = ['A', 'B', 'C']): Promise<string> {
    const r = await createPoll(core, { template: 'choice', title: 'Lunch?', options }, { kind: 'admin' });
    if (!r.ok) throw new Error(r.message);
    return r.value.poll.id;
  }

  /** The same vote by the fast path and by Express (trailing slash); both answers, headers lower-cased. */
  async function both(path: string, init: { body?: string; headers?: Record<string, string> }) {
    const send = async (p: string) => {
      const res = await fetch(`${base}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...init.headers },
        ...(init.body === undefined ? {} : { body: init.body }),
      });
      return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
    };
    const [q = '', rest = ''] = path.split('?');
    return { fast: await send(path), express: await send(`${q}/${rest ? `?${rest}` : ''}`) };
  }

  /**
   * Headers both paths must agree on: the rest are per request (date, id, timing, length, ETag), and Express's
   * compression adds Vary: Accept-Encoding, which an answer that is never compressed does not need.
   */
  const common = (h: Record<string, string>) => {
    const {
      date,
      'x-request-id': _id,
      'server-timing': _t,
      'content-length': _l,
      etag: _e,
      vary: _v,
      ...rest
    } = h;
    return rest;
  };

  it('answers every refusal and error with the same status, body and headers as the Express route', async () => {
    const id = await newPoll();
    const vote = JSON.stringify({ question_id: 'q1', option_ids: ['o1'] });
    const cases: [string, { body?: string; headers?: Record<string, string> }, number, string][] = [
      ['/api/polls/nope/votes?emp_no=1', { body: vote }, 404, 'unknown_poll'],
      [`/api/polls/${id}/votes`, { body: vote }, 401, 'missing_identity'],
      [`/api/polls/${id}/votes?emp_no=abc`, { body: vote }, 400, 'invalid_emp_no'],
      [`/api/polls/${id}/votes?emp_no=7`, { body: '{"question_id":' }, 400, 'invalid_json'],
      [`/api/polls/${id}/votes?emp_no=7`, { body: '"a string"' }, 400, 'invalid_json'],
      [`/api/polls/${id}/votes?emp_no=7`, { body: '{"question_id":"q1"}' }, 400, 'invalid_body'],
      [
        `/api/polls/${id}/votes?emp_no=7`,
        { body: vote, headers: { 'idempotency-key': 'x'.repeat(300) } },
        400,
        'invalid_idempotency_key',
      ],
      [
        `/api/polls/${id}/votes?emp_no=7`,
        { body: JSON.stringify({ question_id: 'q1', option_ids: ['o9'] }) },
        422,
        'unknown_option',
      ],
    ];
    for (const [path, init, status, code] of cases) {
      const { fast, express } = await both(path, init);
      expect([path, fast.status, JSON.parse(fast.body).error.code]).toEqual([path, status, code]);
      expect(fast.body).toBe(express.body);
      expect(common(fast.headers)).toEqual(common(express.headers));
    }
  });

  it('casts, replays by Idempotency-Key and answers with the headers of the Express route', async () => {
    const id = await newPoll();
    const body = JSON.stringify({ question_id: 'q1', option_ids: ['o2'] });
    const headers = { 'idempotency-key': 'fast-1' };
    const { fast, express } = await both(`/api/polls/${id}/votes?emp_no=41`, { body, headers });
    expect(fast.status).toBe(200);
    expect(JSON.parse(fast.body)).toMatchObject({
      version: 1,
      changed: true,
      replayed: false,
      option_ids: ['o2'],
    });
    expect(fast.headers.etag).toBe('"1"');
    expect(fast.headers['server-timing']).toMatch(/^edge;dur=[\d.]+, rules;dur=[\d.]+, commit;dur=[\d.]+/);
    // The same key again, through Express: the first answer, replayed.
    expect(express.headers['idempotent-replayed']).toBe('true');
    expect(JSON.parse(express.body)).toEqual({ ...JSON.parse(fast.body), replayed: true });
    const { 'idempotent-replayed': replayed, ...rest } = common(express.headers);
    expect([replayed, rest]).toEqual(['true', common(fast.headers)]);
    expect(fast.headers['cache-control']).toBe('no-cache');
    expect(fast.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('logs each vote once, with its path and never its query', async () => {
    const id = await newPoll();
    lines.length = 0;
    const res = await fetch(`${base}/api/polls/${id}/votes?emp_no=4242`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-fast-1' },
      body: JSON.stringify({ question_id: 'q1', option_ids: ['o1'] }),
    });
    expect(res.headers.get('x-request-id')).toBe('req-fast-1');
    expect(lines).toEqual([
      expect.objectContaining({
        req_id: 'req-fast-1',
        method: 'POST',
        path: `/api/polls/${id}/votes`,
        status: 200,
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('4242');
  });

  it('takes a plain vote itself (never compressed) and leaves Express what it does not take', async () => {
    const id = await newPoll(Array.from({ length: 40 }, (_, i) => `A place with a rather long name ${i}`));
    const post = (path: string, headers: Record<string, string>, body: string | ReadableStream) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'accept-encoding': 'gzip', ...headers },
        body,
        ...(typeof body === 'string' ? {} : { duplex: 'half' }),
      } as RequestInit);
    const vote = (o: string) => JSON.stringify({ question_id: 'q1', option_ids: [o] });
    // Fast: the answer (over 1 KB) is not compressed, though the client accepts gzip.
    const fast = await post(
      `/api/polls/${id}/votes?emp_no=51`,
      { 'content-type': 'application/json' },
      vote('o1'),
    );
    expect([fast.status, fast.headers.get('content-encoding')]).toEqual([200, null]);
    expect((await fast.text()).length).toBeGreaterThan(1024);
    // Express, which compresses (fetch unzips; the header stays): a trailing slash, a body in chunks (no length).
    const slash = await post(
      `/api/polls/${id}/votes/?emp_no=52`,
      { 'content-type': 'application/json' },
      vote('o2'),
    );
    expect([slash.status, slash.headers.get('content-encoding')]).toEqual([200, 'gzip']);
    expect(((await slash.json()) as { version: number }).version).toBe(2);
    const chunked = await post(
      `/api/polls/${id}/votes?emp_no=53`,
      { 'content-type': 'application/json' },
      new Blob([vote('o3')]).stream(),
    );
    expect([chunked.status, chunked.headers.get('content-encoding')]).toEqual([200, 'gzip']);
    expect(((await chunked.json()) as { version: number }).version).toBe(3);
    // Another content type is Express's to refuse, as before.
    const text = await post(`/api/polls/${id}/votes?emp_no=54`, { 'content-type': 'text/plain' }, vote('o1'));
    expect([text.status, ((await text.json()) as { error: { code: string } }).error.code]).toEqual([
      400,
      'invalid_body',
    ]);
  });

  it('outlives a voter who hangs up half way through the body', async () => {
    const id = await newPoll();
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `POST /api/polls/${id}/votes?emp_no=61 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        'Content-Length: 100\r\n\r\n{"question_id":',
    );
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`${base}/api/polls/${id}/votes?emp_no=62`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question_id: 'q1', option_ids: ['o1'] }),
    });
    expect([res.status, ((await res.json()) as { version: number }).version]).toEqual([200, 1]);
  });

  it('reads body limits in body-parser notation', () => {
    expect([limitBytes('16kb'), limitBytes('100'), limitBytes('1mb')]).toEqual([16_384, 100, 1_048_576]);
    expect(() => limitBytes('lots')).toThrow(/body limit/);
  });
});
