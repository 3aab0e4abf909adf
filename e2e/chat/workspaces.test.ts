// Workspaces end to end: two Slack workspaces (signed requests with different team ids) and the web each create
// polls; App Home, the /lunch catalog, the public poll list, CSV exports and the directory show only their own.
import type {
  CatalogResponse,
  DirectoryImportResponse,
  DirectoryResponse,
  PollListResponse,
  PollResponse,
} from '@livevote/core/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booted, boot } from '../boot.ts';
import { FakeSlack } from './fake-slack.ts';
import { modalPlaceOptions } from './slack-polls.ts';
import { slackRequests } from './slack-requests.ts';

const SECRET = 'slack-signing-secret-for-workspaces';

/** expect.poll for set-up code (vitest allows it inside tests only). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Workspaces: two Slack workspaces and the web', () => {
  const slack = new FakeSlack();
  let app: Booted;
  let base: string;
  let chat: ReturnType<typeof slackRequests>;
  const polls: Record<'T1' | 'T2' | 'web', string[]> = { T1: [], T2: [], web: [] };

  const admin = () => ({ authorization: `Bearer ${app.running.adminToken}` });
  const json = async <T>(path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };
  const postedPollId = async (question: string) => {
    await until(
      () => slack.of('chat.postMessage').some((c) => JSON.stringify(c.body.blocks).includes(question)),
      question,
    );
    const post = slack.of('chat.postMessage').find((c) => JSON.stringify(c.body.blocks).includes(question));
    return (JSON.stringify(post?.body.blocks).match(/"value":"([a-z0-9]+)\|o1"/)?.[1] ?? '') as string;
  };
  const webPoll = async (body: object) => {
    const res = await fetch(`${base}/api/polls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin() },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as PollResponse).poll.id;
  };
  const modalPlaces = async (team: string) => {
    const before = slack.of('views.open').length;
    await chat.command('/lunch', '', 'U1', team);
    await until(() => slack.of('views.open').length === before + 1, 'the /lunch modal');
    return JSON.stringify(slack.of('views.open').at(-1)?.body.view);
  };
  const appHome = async (team: string) => {
    const before = slack.of('views.publish').length;
    await chat.event(team, { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home' });
    await expect.poll(() => slack.of('views.publish').length).toBe(before + 1);
    return JSON.stringify(slack.of('views.publish').at(-1)?.body.view);
  };

  beforeAll(async () => {
    await slack.start();
    app = await boot({
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_API_URL: slack.url,
    });
    base = app.base;
    chat = slackRequests(base, SECRET, slack.url);

    // T1 runs a lunch poll with two of the starter places: its catalog keeps all five (a poll never shrinks it).
    const T1view: unknown = JSON.parse(await modalPlaces('T1'));
    const submitted = await chat.action({
      type: 'view_submission',
      team: { id: 'T1' },
      user: { id: 'U1', team_id: 'T1' },
      view: {
        id: 'V1',
        callback_id: 'lunch-modal',
        private_metadata: JSON.stringify({ channel: 'C1' }),
        state: {
          values: {
            title: { v: { type: 'plain_text_input', value: 'T1 lunch' } },
            places: {
              v: { type: 'multi_static_select', selected_options: modalPlaceOptions(T1view).slice(0, 2) },
            },
          },
        },
      },
    });
    expect(submitted.status).toBe(200);
    await until(
      () => slack.of('chat.postMessage').some((c) => JSON.stringify(c.body.blocks).includes('T1 lunch')),
      'the T1 lunch poll',
    );
    await chat.command('/vote', '"T1 question?" "Pizza" "Sushi"', 'U1', 'T1');
    polls.T1.push(await postedPollId('T1 question?'));
    await chat.command('/vote', '"T2 question?" "Tacos" "Ramen"', 'U9', 'T2', 'C9');
    polls.T2.push(await postedPollId('T2 question?'));
    polls.web.push(await webPoll({ template: 'choice', title: 'Web question?', options: ['Yes', 'No'] }));
    polls.web.push(
      await webPoll({
        template: 'lunch',
        title: 'Web lunch',
        places: [
          { name: 'Web Place A', menus: [] },
          { name: 'Web Place B', menus: [] },
        ],
      }),
    );
    const t1 = (await json<PollListResponse>('/api/polls?workspace=slack:T1', admin())).polls;
    polls.T1.push(...t1.filter((p) => p.title === 'T1 lunch').map((p) => p.id));
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await slack.stop();
  });

  it('lists only the web workspace publicly, and exactly one workspace for the admin with ?workspace=', async () => {
    const ids = (r: PollListResponse) => r.polls.map((p) => p.id).sort();
    expect(ids(await json<PollListResponse>('/api/polls'))).toEqual([...polls.web].sort());
    expect(ids(await json<PollListResponse>('/api/polls?workspace=slack:T1', admin()))).toEqual(
      [...polls.T1].sort(),
    );
    expect(polls.T1).toHaveLength(2);
    expect(ids(await json<PollListResponse>('/api/polls?workspace=slack:T2', admin()))).toEqual(polls.T2);
    const all = await json<PollListResponse>('/api/polls', admin());
    expect(all.polls).toHaveLength(5);
    expect(new Set(all.polls.map((p) => p.workspace))).toEqual(new Set(['web', 'slack:T1', 'slack:T2']));
    // Asking for another workspace without the token is refused, not quietly answered with the web's.
    expect((await fetch(`${base}/api/polls?workspace=slack:T1`)).status).toBe(401);
  });

  it('keeps a poll page reachable by anyone with its link, under an unguessable id', async () => {
    const id = polls.T2[0] as string;
    expect(id).toMatch(/^[a-z2-9]{12}$/); // 12 letters of 32: 60 random bits
    const page = await json<PollResponse>(`/api/polls/${id}`);
    expect(page.poll.workspace).toBe('slack:T2');
  });

  it('shows each workspace only its own open polls in App Home', async () => {
    const t1 = await appHome('T1');
    expect(t1).toContain('T1 question?');
    expect(t1).toContain('T1 lunch');
    expect(t1).not.toContain('T2 question?');
    expect(t1).not.toContain('Web question?');
    const t2 = await appHome('T2');
    expect(t2).toContain('T2 question?');
    expect(t2).not.toContain('T1 question?');
    expect(t2).not.toContain('T1 lunch');
  });

  it('builds /lunch from the workspace’s own catalog', async () => {
    // T2 adds a place of its own; T1's two-place poll did not shrink T1's catalog.
    const added = await fetch(`${base}/api/catalog/places`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin() },
      body: JSON.stringify({ workspace: 'slack:T2', name: 'T2 Only Place' }),
    });
    expect(added.status).toBe(201);
    const t1 = await modalPlaces('T1');
    const t2 = await modalPlaces('T2');
    // T1's poll offered the first two places; the modal still offers the other three.
    for (const name of ['명동교자', '을지면옥', '한솥도시락']) expect(t1).toContain(name);
    expect(t2).toContain('T2 Only Place');
    for (const modal of [t1, t2]) expect(modal).not.toContain('Web Place A');
    expect(t1).not.toContain('T2 Only Place');
    // The web workspace's catalog is its own (the starter places), not its newest poll's places.
    const web = await json<CatalogResponse>('/api/catalog/places');
    expect(web.places.map((p) => p.name)).not.toContain('Web Place A');
    expect(web.places.map((p) => p.name)).not.toContain('T2 Only Place');
    const t1Catalog = await json<CatalogResponse>('/api/catalog/places?workspace=slack:T1', admin());
    expect(t1Catalog.places).toHaveLength(5);
    expect((await fetch(`${base}/api/catalog/places?workspace=slack:T1`)).status).toBe(401);
  });

  it('exports a poll’s CSV only within its workspace', async () => {
    const id = polls.T1[0] as string;
    const own = await fetch(`${base}/api/polls/${id}/export.csv?workspace=slack:T1`, { headers: admin() });
    expect(own.status).toBe(200);
    const other = await fetch(`${base}/api/polls/${id}/export.csv?workspace=slack:T2`, { headers: admin() });
    expect(other.status).toBe(404);
  });

  it('imports and lists the directory per workspace', async () => {
    const importInto = async (workspace: string, csv: string) => {
      const res = await fetch(`${base}/api/directory?workspace=${workspace}`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', ...admin() },
        body: csv,
      });
      return { status: res.status, body: (await res.json()) as DirectoryImportResponse };
    };
    expect((await importInto('slack:T1', 'slack,,U1,1001\nslack,T1,U2,1002\n')).body).toMatchObject({
      imported: 2,
    });
    expect((await importInto('slack:T2', 'slack,T2,U9,2009\n')).body).toMatchObject({ imported: 1 });
    // T2 cannot map T1's people.
    expect((await importInto('slack:T2', 'slack,T1,U1,6666\n')).status).toBe(400);
    const t1 = await json<DirectoryResponse>('/api/directory?workspace=slack:T1', admin());
    expect(t1.entries.map((e) => `${e.tenant}:${e.user}:${e.emp_no}`)).toEqual(['T1:U1:1001', 'T1:U2:1002']);
    const t2csv = await (
      await fetch(`${base}/api/directory/export.csv?workspace=slack:T2`, { headers: admin() })
    ).text();
    expect(t2csv).toContain('U9');
    expect(t2csv).not.toContain('U1');
    expect((await json<DirectoryResponse>('/api/directory', admin())).entries).toEqual([]);
  });
});
