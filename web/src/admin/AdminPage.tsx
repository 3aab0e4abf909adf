// Admin: create a lunch poll from the places catalog or a plain choice poll, with close time and settings;
// close now, CSV export, copy the board and vote links. The token comes from the admin link (#token=) or is typed.
import type { CreatePollBody, PollSummary } from '@livevote/core/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, closePoll, createPoll, exportCsv, fetchCatalog, listPolls } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { LunchLinks } from '../lunch/LunchLinks.tsx';

const TOKEN_KEY = 'livevote.admin_token';

function initialToken(): string {
  const m = /token=([^&]+)/.exec(location.hash);
  if (m?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname); // keep the token out of the address bar and history
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function AdminPage() {
  const { t, toggle } = useI18n();
  const [token, setToken] = useState(initialToken);
  return (
    <main className="page admin">
      <header className="admin-head">
        <h1>{t('adminTitle')}</h1>
        <button type="button" className="link" onClick={toggle}>
          {t('language')}
        </button>
      </header>
      <LunchLinks />
      <TokenField
        token={token}
        onSave={(v) => {
          sessionStorage.setItem(TOKEN_KEY, v);
          setToken(v);
        }}
      />
      <NewPollForm token={token} />
      <PollList token={token} />
    </main>
  );
}

function TokenField({ token, onSave }: { token: string; onSave: (t: string) => void }) {
  const { t } = useI18n();
  const [value, setValue] = useState(token);
  return (
    <form
      className="card token"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(value.trim());
      }}
    >
      <label htmlFor="token">{t('adminToken')}</label>
      <div className="row">
        <input
          id="token"
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
        <button type="submit">{t('save')}</button>
      </div>
      <p className="hint">{t('adminTokenHint')}</p>
    </form>
  );
}

type Place = { name: string; label_en?: string; menus: { name: string; label_en?: string }[] };

export function placesToText(places: Place[]): string {
  return places
    .map((p) => [p.name, p.label_en ?? '', p.menus.map((m) => m.name).join(', ')].join(' | '))
    .join('\n');
}

export function textToPlaces(text: string): Place[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [name = '', en = '', menus = ''] = line.split('|').map((s) => s.trim());
      return {
        name,
        ...(en ? { label_en: en } : {}),
        menus: menus
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean)
          .map((m) => ({ name: m })),
      };
    });
}

/** datetime-local gives local wall time without an offset; the API wants an absolute time. */
export function localToIso(local: string): string | null {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function NewPollForm({ token }: { token: string }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const catalog = useQuery({ queryKey: ['catalog'], queryFn: fetchCatalog });
  const [template, setTemplate] = useState<'lunch' | 'choice'>('lunch');
  const [title, setTitle] = useState('');
  const [placesText, setPlacesText] = useState('');
  const [optionsText, setOptionsText] = useState('');
  const [closesAt, setClosesAt] = useState('');
  const [anonymous, setAnonymous] = useState(false);
  const [hidden, setHidden] = useState(false);
  const [showTurnout, setShowTurnout] = useState(false);
  const [allowAdd, setAllowAdd] = useState(false);
  const [maxChoices, setMaxChoices] = useState(1);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    if (catalog.data && placesText === '') setPlacesText(placesToText(catalog.data.places));
  }, [catalog.data, placesText]);

  const create = useMutation({
    mutationFn: (body: CreatePollBody) => createPoll(token, body),
    onSuccess: (r) => {
      setResult({ ok: true, text: `${t('created')}: ${r.poll.title}` });
      void client.invalidateQueries({ queryKey: ['polls'] });
    },
    onError: (e) =>
      setResult({ ok: false, text: e instanceof ApiError ? `${e.code}: ${e.message}` : String(e) }),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const settings = {
      anonymous,
      results_hidden: hidden,
      show_turnout: hidden && showTurnout,
      allow_add_options: allowAdd,
    };
    const closes_at = localToIso(closesAt);
    const body: CreatePollBody =
      template === 'lunch'
        ? {
            template,
            ...(title ? { title } : {}),
            places: textToPlaces(placesText),
            max_choices: maxChoices,
            closes_at,
            settings,
          }
        : {
            template,
            title,
            options: optionsText
              .split('\n')
              .map((s) => s.trim())
              .filter(Boolean),
            max_choices: maxChoices,
            closes_at,
            settings,
          };
    create.mutate(body);
  };

  return (
    <form className="card new-poll" onSubmit={submit}>
      <h2>{t('newPoll')}</h2>
      <fieldset className="row">
        <legend>{t('template')}</legend>
        <label>
          <input
            type="radio"
            name="template"
            checked={template === 'lunch'}
            onChange={() => setTemplate('lunch')}
          />{' '}
          {t('lunch')}
        </label>
        <label>
          <input
            type="radio"
            name="template"
            checked={template === 'choice'}
            onChange={() => setTemplate('choice')}
          />{' '}
          {t('choice')}
        </label>
      </fieldset>
      <label htmlFor="title">{t('title')}</label>
      <input
        id="title"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        required={template === 'choice'}
        maxLength={120}
      />
      {template === 'lunch' ? (
        <>
          <label htmlFor="places">{t('places')}</label>
          <textarea id="places" rows={7} value={placesText} onChange={(e) => setPlacesText(e.target.value)} />
          <p className="hint">{t('placeLine')}</p>
        </>
      ) : (
        <>
          <label htmlFor="options">{t('options')}</label>
          <textarea
            id="options"
            rows={5}
            value={optionsText}
            onChange={(e) => setOptionsText(e.target.value)}
          />
        </>
      )}
      <div className="grid2">
        <div>
          <label htmlFor="closes">{t('closesAt')}</label>
          <input
            id="closes"
            type="datetime-local"
            value={closesAt}
            onChange={(e) => setClosesAt(e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="max">{t('maxChoices')}</label>
          <input
            id="max"
            type="number"
            min={1}
            max={10}
            value={maxChoices}
            onChange={(e) => setMaxChoices(Number(e.target.value) || 1)}
          />
        </div>
      </div>
      <label className="check">
        <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.target.checked)} />{' '}
        {t('anonymous')}
      </label>
      <label className="check">
        <input type="checkbox" checked={hidden} onChange={(e) => setHidden(e.target.checked)} />{' '}
        {t('hideResults')}
      </label>
      {hidden && (
        <label className="check check-sub">
          <input type="checkbox" checked={showTurnout} onChange={(e) => setShowTurnout(e.target.checked)} />{' '}
          {t('showTurnout')}
        </label>
      )}
      <label className="check">
        <input type="checkbox" checked={allowAdd} onChange={(e) => setAllowAdd(e.target.checked)} />{' '}
        {t('allowAdd')}
      </label>
      <button type="submit" className="primary" disabled={create.isPending}>
        {t('create')}
      </button>
      {result && (
        <p className={result.ok ? 'notice' : 'notice notice-error'} role="status">
          {result.text}
        </p>
      )}
    </form>
  );
}

function PollList({ token }: { token: string }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const polls = useQuery({ queryKey: ['polls'], queryFn: listPolls, refetchInterval: 10_000 });
  const [note, setNote] = useState<string | null>(null);
  const close = useMutation({
    mutationFn: (id: string) => closePoll(token, id),
    onSuccess: () => client.invalidateQueries({ queryKey: ['polls'] }),
    onError: (e) => setNote(e instanceof Error ? e.message : String(e)),
  });
  const download = async (id: string) => {
    try {
      const blob = await exportCsv(token, id);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `livevote-${id}.csv`;
      a.click();
      URL.revokeObjectURL(a.href);
    } catch (e) {
      setNote(e instanceof Error ? e.message : String(e));
    }
  };
  const copy = async (path: string) => {
    await navigator.clipboard?.writeText(`${location.origin}${path}`).catch(() => {});
    setNote(`${t('copied')}: ${location.origin}${path}`);
  };
  const list: PollSummary[] = polls.data?.polls ?? [];
  return (
    <section className="card">
      <h2>{t('polls')}</h2>
      {note && (
        <p className="notice" role="status">
          {note}
        </p>
      )}
      {list.length === 0 && <p className="hint">{t('noPolls')}</p>}
      <ul className="poll-list">
        {list.map((p) => (
          <li key={p.id}>
            <div className="poll-title">
              <strong>{p.title}</strong>{' '}
              <span className={`pill pill-${p.status}`}>{p.status === 'open' ? t('live') : t('closed')}</span>
              <span className="hint"> {p.id}</span>
            </div>
            <div className="row actions">
              <a href={`/board/${p.id}`}>{t('board')}</a>
              <a href={`/p/${p.id}`}>{t('votePage')}</a>
              <button type="button" onClick={() => copy(`/board/${p.id}`)}>
                {t('copy')} ({t('board')})
              </button>
              <button type="button" onClick={() => copy(`/p/${p.id}`)}>
                {t('copy')} ({t('votePage')})
              </button>
              <button type="button" onClick={() => download(p.id)}>
                {t('exportCsv')}
              </button>
              {p.status === 'open' && (
                <button type="button" className="danger" onClick={() => close.mutate(p.id)}>
                  {t('closeNow')}
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
