// The Teams delivery platform (the delivery engine's contract) against a connector that answers like Teams: the real
// SDK client, a trailing-slash service URL stored by an older version, and each of Teams' failures classified.
import { teamsPlatform } from '@livevote/bot';
import type { ChatMessage, Core } from '@livevote/core';
import { choicePoll, type EmbeddedCore, embeddedCore } from '@livevote/core/testing';
import { Client } from '@microsoft/teams.api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeConnector } from './fake-connector.ts';

describe('Teams delivery platform', () => {
  const connector = new FakeConnector();
  let core: Core;
  let embedded: EmbeddedCore;
  let message: ChatMessage;
  beforeAll(async () => {
    await connector.start();
    connector.knowActivity('act-9'); // the card the stored message names
    embedded = await embeddedCore();
    core = embedded.core;
    const pollId = await choicePoll(core);
    // As an older version stored it: the raw serviceUrl, trailing slash and all.
    message = {
      platform: 'teams',
      channel: 'conv9',
      message_id: 'act-9',
      poll_id: pollId,
      meta: { serviceUrl: connector.url },
    };
  });
  afterAll(async () => {
    await embedded?.close();
    await connector.stop();
  });

  const platform = (allowed = true) =>
    teamsPlatform({
      core,
      publicUrl: 'https://lunch.example.test',
      connector: (url) => new Client(url),
      serviceUrlAllowed: () => allowed,
    });
  const snapshot = async () =>
    (await core.snapshots.fresh(message.poll_id)) as NonNullable<
      Awaited<ReturnType<Core['snapshots']['fresh']>>
    >;

  it('updates the card on the normalised path, never //v3', async () => {
    expect(await platform().update(message, await snapshot())).toEqual({ ok: true });
    const put = connector.calls.at(-1);
    expect(put?.rawPath).toBe('/amer/v3/conversations/conv9/activities/act-9');
    expect(connector.malformed()).toEqual([]);
  });

  it.each([
    [429, { kind: 'retry', reason: 'rate_limited', rateLimited: true, retryAfterMs: 7_000 }],
    [412, { kind: 'retry', reason: 'precondition_failed' }],
    [502, { kind: 'retry', reason: 'http_502' }],
    [403, { kind: 'permanent', reason: 'bot_removed' }],
    [404, { kind: 'permanent', reason: 'not_found' }],
    [413, { kind: 'permanent', reason: 'too_large' }],
  ] as const)('classifies a %i from the connector', async (status, expected) => {
    connector.fail({ status, times: 1, ...(status === 429 ? { retryAfter: 7 } : {}) });
    expect(await platform().update(message, await snapshot())).toEqual({ ok: false, ...expected });
  });

  it('stops updating a card someone deleted: the service answers 404 for an activity it no longer holds', async () => {
    const deleted = { ...message, message_id: 'act-deleted-by-a-person' };
    expect(await platform().update(deleted, await snapshot())).toEqual({
      ok: false,
      kind: 'permanent',
      reason: 'not_found',
    });
    expect(connector.calls.at(-1)).toMatchObject({ method: 'PUT', status: 404 });
  });

  it('classifies a connector that cannot be reached as worth a retry', async () => {
    const gone = { ...message, meta: { serviceUrl: 'http://127.0.0.1:9/amer/' } };
    expect(await platform().update(gone, await snapshot())).toMatchObject({
      ok: false,
      kind: 'retry',
      reason: 'network:ECONNREFUSED',
    });
  });

  it('never calls a service URL it may not (with tokens validated: https only)', async () => {
    const before = connector.calls.length;
    const o = await platform(false).announceWinner(message, await snapshot());
    expect(o).toEqual({ ok: false, kind: 'permanent', reason: 'service_url_not_allowed' });
    expect(connector.calls.length).toBe(before);
  });

  it('posts the winner as a reply to the card', async () => {
    expect(await platform().announceWinner(message, await snapshot())).toEqual({ ok: true });
    const reply = connector.calls.at(-1);
    expect(reply?.rawPath).toBe('/amer/v3/conversations/conv9/activities');
    expect(reply?.body.replyToId).toBe('act-9');
  });
});
