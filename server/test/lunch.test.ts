// The lunch ritual through a whole server on the real Postgres: the catalog over REST (rows and CSV), lunch polls
// from it, schedules and today's run, a poll that closes by itself in real time with its decision, the visit it
// leaves, the headcount and the menu round. Bad input gets a clear error and changes nothing.
import type {
  CatalogImportResponse,
  CatalogPlaceResponse,
  CatalogResponse,
  HeadcountResponse,
  PollResponse,
  ScheduleListResponse,
  ScheduleResponse,
  ScheduleRunResponse,
  VisitsResponse,
} from '@livevote/core';
import { createTestDatabase, TEST_ANONYMITY_KEY, type TestDatabase } from '@livevote/core/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { type Running, start } from '../src/start.ts';

const ADMIN = 'lunch-test-admin-token-0123456789';
let db: TestDatabase;
let app: Running;

beforeAll(async () => {
  db = await createTestDatabase();
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    ANONYMITY_KEY: TEST_ANONYMITY_KEY,
    ADMIN_TOKEN: ADMIN,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'silent',
    WEB_APP: 'off',
    ABUSE_LIMITS: 'off',
    LUNCH_TICK_MS: '1000',
  });
  app = await start(config, pino({ level: 'silent' }));
});
afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

const admin = { authorization: `Bearer ${ADMIN}` };
const call = async <T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = admin,
) => {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T & { error?: { code: string } } };
};

describe('the places catalog', () => {
  it('starts from the starter places and takes rows: add, edit, deactivate', async () => {
    const start = await call<CatalogResponse>('GET', '/api/catalog/places', undefined, {});
    expect(start.body.places).toHaveLength(5);
    const added = await call<CatalogPlaceResponse>('POST', '/api/catalog/places', {
      name: '스시로',
      label_en: 'Sushiro',
      tags: ['japanese'],
      price: 3,
      walk_minutes: 7,
      dietary: ['pescatarian'],
      url: 'https://map.example/sushiro',
      menus: [{ name: '모둠초밥', label_en: 'Assorted sushi' }, { name: '우동' }],
    });
    expect(added.status).toBe(201);
    const id = added.body.place.id;
    expect(added.body.place).toMatchObject({ name: '스시로', price: 3, walk_minutes: 7, active: true });
    expect((await call('POST', '/api/catalog/places', { name: '스시로' })).body.error?.code).toBe(
      'place_exists',
    );
    expect((await call('POST', '/api/catalog/places', { name: 'X', price: 4 })).status).toBe(400);
    expect((await call('POST', '/api/catalog/places', { name: 'X' }, {})).status).toBe(401);

    const [sushi] = added.body.place.menus;
    const edited = await call<CatalogPlaceResponse>('PATCH', `/api/catalog/places/${id}`, {
      walk_minutes: null,
      menus: [{ id: sushi?.id, name: '모둠초밥 (10p)' }, { name: '튀김' }],
    });
    expect(edited.body.place.walk_minutes).toBeUndefined();
    expect(edited.body.place.menus.map((m) => m.name)).toEqual(['모둠초밥 (10p)', '튀김']);
    expect(edited.body.place.menus[0]?.id).toBe(sushi?.id); // a menu keeps its id through an edit
    expect((await call('PATCH', '/api/catalog/places/nope', { active: false })).status).toBe(404);
    // Another workspace's place: found by its id, but not under a workspace it does not belong to.
    const team = await call<CatalogPlaceResponse>('POST', '/api/catalog/places', {
      workspace: 'slack:T9',
      name: 'Team place',
    });
    const teamId = team.body.place.id;
    expect((await call('PATCH', `/api/catalog/places/${teamId}?workspace=web`, { price: 2 })).status).toBe(
      404,
    );
    expect(
      (await call<CatalogPlaceResponse>('PATCH', `/api/catalog/places/${teamId}`, { price: 2 })).body.place
        .price,
    ).toBe(2);

    expect((await call<CatalogPlaceResponse>('DELETE', `/api/catalog/places/${id}`)).body.place.active).toBe(
      false,
    );
    const active = await call<CatalogResponse>('GET', '/api/catalog/places', undefined, {});
    expect(active.body.places.map((p) => p.id)).not.toContain(id);
    const all = await call<CatalogResponse>(
      'GET',
      '/api/catalog/places?include_inactive=true',
      undefined,
      {},
    );
    expect(all.body.places.find((p) => p.id === id)?.active).toBe(false);
  });

  it('exports CSV and imports it back; a bad row changes nothing', async () => {
    const csv = await (await fetch(`${app.url}/api/catalog/export.csv`, { headers: admin })).text();
    expect(csv.split('\r\n')[0]).toContain(
      'id,name,label_en,tags,price,walk_minutes,dietary,url,active,menus',
    );
    const importCsv = (text: string) =>
      fetch(`${app.url}/api/catalog/import`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'text/csv' },
        body: text,
      });
    const same = await importCsv(csv);
    expect(((await same.json()) as CatalogImportResponse).updated).toBe(6);
    const before = await call<CatalogResponse>(
      'GET',
      '/api/catalog/places?include_inactive=true',
      undefined,
      {},
    );
    const bad = await importCsv('name,price\nBurger Lab,2\nPizza Hut,9\n');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('Line 3');
    const after = await call<CatalogResponse>(
      'GET',
      '/api/catalog/places?include_inactive=true',
      undefined,
      {},
    );
    expect(after.body.places).toEqual(before.body.places);
    const added = await importCsv(
      'name,tags,menus\nBurger Lab,american; burgers,Classic = Classic burger; Fries\n',
    );
    expect(((await added.json()) as CatalogImportResponse).created).toBe(1);
  });

  it('makes lunch polls from its places, by id or all active ones', async () => {
    const { places } = (await call<CatalogResponse>('GET', '/api/catalog/places', undefined, {})).body;
    const [a, b] = places;
    const two = await call<PollResponse>('POST', '/api/polls', {
      template: 'lunch',
      place_ids: [b?.id, a?.id],
    });
    expect(two.status).toBe(201);
    expect(two.body.poll.questions[0]?.options.map((o) => o.id)).toEqual([b?.id, a?.id]);
    const every = await call<PollResponse>('POST', '/api/polls', { template: 'lunch' });
    expect(every.body.poll.questions[0]?.options).toHaveLength(places.length);
    const unknown = await call('POST', '/api/polls', { template: 'lunch', place_ids: ['zzz', 'yyy'] });
    expect(unknown.body.error?.code).toBe('unknown_place');
  });
});

describe('schedules', () => {
  const body = {
    destination: { platform: 'web' },
    weekdays: [1, 2, 3, 4, 5],
    open_at: '11:00',
    close_at: '11:45',
    timezone: 'Asia/Seoul',
  };

  it('refuses bad schedules with the field named', async () => {
    expect(
      (await call('POST', '/api/schedules', { ...body, timezone: 'Mars/Olympus' })).body.error?.code,
    ).toBe('invalid_body');
    expect((await call('POST', '/api/schedules', { ...body, open_at: '12:00' })).status).toBe(400);
    expect((await call('POST', '/api/schedules', { ...body, weekdays: [8] })).status).toBe(400);
    const slack = await call('POST', '/api/schedules', {
      ...body,
      destination: { platform: 'slack', channel: 'C1' },
    });
    expect(slack.body.error?.code).toBe('not_allowed'); // a Slack channel does not belong to the web workspace
    expect((await call('POST', '/api/schedules', body, {})).status).toBe(401);
    expect((await call<ScheduleListResponse>('GET', '/api/schedules')).body.schedules).toEqual([]);
  });

  it('creates, changes, runs today’s poll once, and deletes', async () => {
    const created = await call<ScheduleResponse>('POST', '/api/schedules', { ...body, reminder_minutes: 5 });
    expect(created.status).toBe(201);
    const id = created.body.schedule.id;
    expect(created.body.schedule).toMatchObject({ workspace: 'web', extend_minutes: 10, nudges: false });
    const patched = await call<ScheduleResponse>('PATCH', `/api/schedules/${id}`, {
      skip_dates: ['2026-12-25'],
      places: { rule: 'random', count: 3 },
    });
    expect(patched.body.schedule).toMatchObject({
      skip_dates: ['2026-12-25'],
      places: { rule: 'random', count: 3 },
    });
    expect((await call('PATCH', `/api/schedules/${id}`, { close_at: '10:00' })).status).toBe(403);

    const run = await call<ScheduleRunResponse>('POST', `/api/schedules/${id}/run`);
    expect(run.status).toBe(201);
    expect(run.body.created).toBe(true);
    expect(run.body.poll.questions[0]?.options).toHaveLength(3);
    const again = await call<ScheduleRunResponse>('POST', `/api/schedules/${id}/run`);
    expect(again.status).toBe(200);
    expect(again.body.poll.id).toBe(run.body.poll.id);

    expect((await call('DELETE', `/api/schedules/${id}`)).status).toBe(204);
    expect((await call('GET', `/api/schedules/${id}`)).status).toBe(404);
    expect((await call('POST', `/api/schedules/${id}/run`)).status).toBe(404);
  });
});

describe('a poll with a close time', () => {
  it('closes by itself on time in real time, decided, and becomes a visit; then headcount and menu round', async () => {
    const { places } = (await call<CatalogResponse>('GET', '/api/catalog/places', undefined, {})).body;
    const [a, b] = places;
    const closesAt = new Date(Date.now() + 2_000);
    const created = await call<PollResponse>('POST', '/api/polls', {
      template: 'lunch',
      place_ids: [a?.id, b?.id],
      closes_at: closesAt.toISOString(),
    });
    const id = created.body.poll.id;
    for (const emp of ['1', '2'])
      await call(
        'POST',
        `/api/polls/${id}/votes`,
        { question_id: 'place', option_ids: [a?.id] },
        { 'x-emp-no': emp },
      );
    expect(
      (await call('POST', `/api/polls/${id}/headcount`, undefined, { 'x-emp-no': '1' })).body.error?.code,
    ).toBe('not_decided');
    let closedSeenAt = 0;
    await expect
      .poll(
        async () => {
          const r = await call<PollResponse>('GET', `/api/polls/${id}`, undefined, {});
          if (r.body.snapshot.decision) closedSeenAt = Date.now();
          return r.body.snapshot.decision?.reason;
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe('majority');
    expect(closedSeenAt - closesAt.getTime()).toBeLessThan(5_000);
    const visits = await call<VisitsResponse>('GET', '/api/visits', undefined, {});
    expect(visits.body.visits[0]).toMatchObject({ poll_id: id, place_id: a?.id, votes: 2 });
    expect(visits.body.places.find((p) => p.place_id === a?.id)).toMatchObject({ wins: 1, days_since: 0 });

    const join = (emp: string, method = 'POST') =>
      call<HeadcountResponse>(method, `/api/polls/${id}/headcount`, undefined, { 'x-emp-no': emp });
    expect((await join('1')).body).toMatchObject({ count: 1, me: true });
    expect((await join('1')).body.count).toBe(1); // in once, however often
    expect((await join('7')).body.count).toBe(2);
    expect((await join('7', 'DELETE')).body).toMatchObject({ count: 1, me: false });
    expect(
      (await call<HeadcountResponse>('GET', `/api/polls/${id}/headcount`, undefined, {})).body.count,
    ).toBe(1);

    const round = await call<PollResponse>('POST', `/api/polls/${id}/menu-round`, { minutes: 5 });
    expect(round.status).toBe(201);
    expect(round.body.poll.questions[0]?.options.map((o) => o.label)).toEqual(a?.menus.map((m) => m.name));
    const same = await call<PollResponse>('POST', `/api/polls/${id}/menu-round`, {});
    expect(same.body.poll.id).toBe(round.body.poll.id);
  });
});
