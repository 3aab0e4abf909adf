import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphOwnerCheck } from './workspace-admin.ts';

/** A Microsoft Graph stand-in answering team and chat membership the way Graph does (roles: ['owner'] or []). */
describe('Teams owners by Microsoft Graph', () => {
  let server: Server;
  let graphUrl = '';
  const requests: { url: string; auth: string | undefined }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', auth: req.headers.authorization });
      const url = new URL(req.url ?? '', 'http://x');
      let value: { userId: string; roles: string[] }[] = [];
      if (url.pathname === '/v1.0/teams/group-1/members') {
        const all = [
          { userId: 'aad-owner', roles: ['owner'] },
          { userId: 'aad-member', roles: [] },
        ];
        const m = /userId eq '([^']*)'/.exec(url.searchParams.get('$filter') ?? '');
        value = all.filter((x) => x.userId === m?.[1]);
      } else if (url.pathname === '/v1.0/chats/19%3Achat%40thread.v2/members') {
        value = [
          { userId: 'aad-chat-owner', roles: ['owner'] },
          { userId: 'aad-guest', roles: ['guest'] },
        ];
      } else {
        res.writeHead(403, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: { code: 'Forbidden' } }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ value }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    graphUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('says yes for an owner of the team or group chat, and no for anyone else', async () => {
    const check = graphOwnerCheck({ graphToken: async () => 'app-token', graphUrl });
    expect(await check({ tenantId: 't', aadObjectId: 'aad-owner', teamGroupId: 'group-1' })).toBe(true);
    expect(await check({ tenantId: 't', aadObjectId: 'aad-member', teamGroupId: 'group-1' })).toBe(false);
    expect(await check({ tenantId: 't', aadObjectId: 'aad-chat-owner', chatId: '19:chat@thread.v2' })).toBe(
      true,
    );
    expect(await check({ tenantId: 't', aadObjectId: 'aad-guest', chatId: '19:chat@thread.v2' })).toBe(false);
    expect(requests.every((r) => r.auth === 'Bearer app-token')).toBe(true);
  });

  it('says no without a token, without a team or chat, or when Graph refuses; and caches answers', async () => {
    const warned: string[] = [];
    const check = graphOwnerCheck({
      graphToken: async () => 'app-token',
      graphUrl,
      log: { warn: (_o, m) => void warned.push(String(m)) },
    });
    expect(await check({ tenantId: 't', aadObjectId: 'aad-owner', teamGroupId: 'other-group' })).toBe(false);
    expect(warned).toHaveLength(1);
    expect(await check({ tenantId: 't', aadObjectId: 'aad-owner' })).toBe(false);
    const none = graphOwnerCheck({ graphToken: async () => null, graphUrl });
    expect(await none({ tenantId: 't', aadObjectId: 'aad-owner', teamGroupId: 'group-1' })).toBe(false);
    const before = requests.length;
    await check({ tenantId: 't', aadObjectId: 'aad-owner', teamGroupId: 'group-1' });
    await check({ tenantId: 't', aadObjectId: 'aad-owner', teamGroupId: 'group-1' });
    expect(requests.length).toBe(before + 1);
  });
});
