import { describe, expect, it } from 'vitest';
import { channelOf, normaliseServiceUrl, referenceOf } from './conversation-reference.ts';
import { classifyTeamsError, teamsBudgets } from './teams-delivery.ts';

/** An error shaped like the Teams SDK's HTTP client throws (axios): a response with status and headers. */
const httpError = (status: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error(`Request failed with status code ${status}`), { response: { status, headers } });

describe('classifyTeamsError', () => {
  it('retries a 429 after its Retry-After (seconds or a date), marked as rate limited', () => {
    expect(classifyTeamsError(httpError(429, { 'retry-after': '3' }))).toEqual({
      ok: false,
      kind: 'retry',
      reason: 'rate_limited',
      rateLimited: true,
      retryAfterMs: 3_000,
    });
    const now = Date.parse('2026-12-01T00:00:00Z');
    const dated = classifyTeamsError(httpError(429, { 'retry-after': 'Tue, 01 Dec 2026 00:00:05 GMT' }), now);
    expect(dated).toMatchObject({ kind: 'retry', retryAfterMs: 5_000, rateLimited: true });
    const bare = classifyTeamsError(httpError(429));
    expect(bare).toMatchObject({ kind: 'retry', rateLimited: true });
    expect('retryAfterMs' in bare).toBe(false);
  });

  it('retries 412, 5xx and network errors', () => {
    expect(classifyTeamsError(httpError(412))).toMatchObject({
      kind: 'retry',
      reason: 'precondition_failed',
    });
    expect(classifyTeamsError(httpError(502))).toMatchObject({ kind: 'retry', reason: 'http_502' });
    expect(classifyTeamsError(httpError(503))).toMatchObject({ kind: 'retry' });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(classifyTeamsError(refused)).toEqual({ ok: false, kind: 'retry', reason: 'network:ECONNREFUSED' });
    expect(classifyTeamsError(new TypeError('bug'))).toMatchObject({ kind: 'retry' });
  });

  it('gives up for good on 403 (bot removed), 404 and 413', () => {
    expect(classifyTeamsError(httpError(403))).toEqual({
      ok: false,
      kind: 'permanent',
      reason: 'bot_removed',
    });
    expect(classifyTeamsError(httpError(404))).toEqual({ ok: false, kind: 'permanent', reason: 'not_found' });
    expect(classifyTeamsError(httpError(413))).toEqual({ ok: false, kind: 'permanent', reason: 'too_large' });
  });
});

describe('Teams budgets', () => {
  it('spends from each of Teams’ windows for the conversation (a thread counts as its channel) and the bot’s own', () => {
    const budgets = teamsBudgets({ channel: '19:abc@thread.tacv2;messageid=1700' }, 'update');
    expect(budgets.map((b) => [b.key, b.points, b.durationMs])).toEqual([
      ['teams:conversation:19:abc@thread.tacv2:1000', 7, 1_000],
      ['teams:conversation:19:abc@thread.tacv2:2000', 8, 2_000],
      ['teams:conversation:19:abc@thread.tacv2:30000', 60, 30_000],
      ['teams:conversation:19:abc@thread.tacv2:3600000', 1_800, 3_600_000],
      ['teams:bot', 50, 1_000],
    ]);
    expect(teamsBudgets({ channel: 'a:1' }, 'reply')[0]?.key).toBe('teams:conversation:a:1:1000');
  });
});

describe('conversation references', () => {
  it('are stored as the SDK normalises them: no trailing slash on the service URL', () => {
    expect(normaliseServiceUrl('https://smba.trafficmanager.net/amer/')).toBe(
      'https://smba.trafficmanager.net/amer',
    );
    expect(
      referenceOf({
        serviceUrl: 'https://smba.trafficmanager.net/amer/',
        conversation: { id: '19:c@thread.tacv2;messageid=42', tenantId: 't1', conversationType: 'channel' },
        recipient: { id: '28:bot', name: 'livevote' },
        channelData: { team: { id: '19:team@thread.tacv2' } },
      }),
    ).toEqual({
      serviceUrl: 'https://smba.trafficmanager.net/amer',
      conversationId: '19:c@thread.tacv2;messageid=42',
      tenantId: 't1',
      botId: '28:bot',
      botName: 'livevote',
      conversationType: 'channel',
      teamId: '19:team@thread.tacv2',
    });
    expect(channelOf('19:c@thread.tacv2;messageid=42')).toBe('19:c@thread.tacv2');
    // Nothing to post with: no reference.
    expect(
      referenceOf({
        serviceUrl: 'not a url',
        conversation: { id: 'c', tenantId: 't' },
        recipient: { id: 'b' },
      }),
    ).toBeNull();
    expect(
      referenceOf({ serviceUrl: 'https://x/', conversation: { id: 'c' }, recipient: { id: 'b' } }),
    ).toBeNull();
  });
});
