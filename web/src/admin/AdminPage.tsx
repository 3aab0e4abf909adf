// Admin: create a lunch poll from the places catalog or a plain choice poll, with close time and settings;
// close now, CSV export, copy the board and vote links. The token comes from the admin link (#token=) or is typed.
import type { CreatePollBody, Poll, PollSummary } from '@livevote/core/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { closePoll, createPoll, exportCsv, fetchCatalog, listPolls, revealResults } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.ts';
import { LunchLinks } from '../lunch/LunchLinks.tsx';
import { useDocumentTitle } from '../ui/document-title.ts';
import { Qr } from '../ui/widgets.tsx';
import { type FormErrors, serverErrorText, validatePollForm } from './poll-form.ts';

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
  useDocumentTitle(t('adminTitle'));
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

/**
 * The places of a new lunch poll, as the API takes them. The catalog's own places, menus unchanged, go as `place_ids`:
 * the poll then names the places themselves (history and the "visited longest ago" tie-break follow them through a
 * rename) and keeps every English name. A list the admin edited goes as typed, with the English names of the menus
 * it kept from the catalog.
 */
export function placesRequest(
  text: string,
  catalog: readonly (Place & { id: string })[],
): { place_ids: string[] } | { places: Place[] } {
  const typed = textToPlaces(text);
  const byName = new Map(catalog.map((p) => [p.name, p]));
  const same = (t: Place, c: Place) =>
    (t.label_en ?? '') === (c.label_en ?? '') &&
    t.menus.map((m) => m.name).join('\n') === c.menus.map((m) => m.name).join('\n');
  const ids = typed.map((t) => {
    const c = byName.get(t.name);
    return c && same(t, c) ? c.id : null;
  });
  if (typed.length >= 2 && ids.every((id) => id !== null) && new Set(ids).size === ids.length)
    return { place_ids: ids as string[] };
  return {
    places: typed.map((t) => {
      const menus = new Map(byName.get(t.name)?.menus.map((m) => [m.name, m.label_en]));
      return {
        ...t,
        menus: t.menus.map((m) => {
          const en = menus.get(m.name);
          return en ? { ...m, label_en: en } : m;
        }),
      };
    }),
  };
}

/** datetime-local gives local wall time without an offset; the API wants an absolute time. */
export function localToIso(local: string): string | null {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

type Created = Pick<Poll, 'id' | 'title'>;

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
  const [maxChoices, setMaxChoices] = useState('1');
  const [errors, setErrors] = useState<FormErrors>({});
  const [created, setCreated] = useState<Created | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const resultRef = useRef<HTMLDivElement>(null);

  const catalogText = catalog.data ? placesToText(catalog.data.places) : '';
  // The catalog fills the box once, when it arrives; after that an empty box is the admin's (to paste their own).
  const filled = useRef(false);
  useEffect(() => {
    if (catalogText && !filled.current) {
      filled.current = true;
      setPlacesText((text) => text || catalogText);
    }
  }, [catalogText]);

  // Whatever happened is shown where the admin is looking, not below the fold.
  useEffect(() => {
    if (created || failure) {
      resultRef.current?.scrollIntoView({ block: 'center' });
      resultRef.current?.focus();
    }
  }, [created, failure]);

  const reset = () => {
    setTitle('');
    setPlacesText(catalogText);
    setOptionsText('');
    setClosesAt('');
    setAnonymous(false);
    setHidden(false);
    setShowTurnout(false);
    setAllowAdd(false);
    setMaxChoices('1');
    setErrors({});
  };

  const create = useMutation({
    mutationFn: (body: CreatePollBody) => createPoll(token, body),
    onSuccess: (r) => {
      setFailure(null);
      setCreated({ id: r.poll.id, title: r.poll.title });
      reset(); // a second click makes nothing twice
      void client.invalidateQueries({ queryKey: ['polls'] });
    },
    onError: (e) => {
      setCreated(null);
      const s = serverErrorText(e);
      setFailure(s.field ? t('errField', { field: t(s.field) }) : t(s.key));
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (create.isPending) return;
    const form = { template, title, placesText, optionsText, closesAt, maxChoices };
    const found = validatePollForm(form, Date.now());
    setErrors(found);
    const first = Object.keys(found)[0];
    if (first) {
      document.getElementById(first)?.focus();
      return;
    }
    const settings = {
      anonymous,
      results_hidden: hidden,
      show_turnout: hidden && showTurnout,
      allow_add_options: allowAdd,
    };
    const closes_at = localToIso(closesAt);
    const max_choices = Number(maxChoices);
    const body: CreatePollBody =
      template === 'lunch'
        ? {
            template,
            ...(title.trim() ? { title: title.trim() } : {}),
            ...placesRequest(placesText, catalog.data?.places ?? []),
            max_choices,
            closes_at,
            settings,
          }
        : {
            template,
            title: title.trim(),
            options: lines(optionsText),
            max_choices,
            closes_at,
            settings,
          };
    create.mutate(body);
  };

  const field = (id: keyof FormErrors) =>
    errors[id]
      ? { 'aria-invalid': true as const, 'aria-describedby': `${id}-error` }
      : { 'aria-invalid': false as const };
  const fieldError = (id: keyof FormErrors) =>
    errors[id] ? (
      <p className="field-error" id={`${id}-error`}>
        {t(errors[id] as MessageKey)}
      </p>
    ) : null;

  return (
    <form className="card new-poll" onSubmit={submit} noValidate>
      <h2>{t('newPoll')}</h2>
      <div ref={resultRef} tabIndex={-1} className="result-slot" aria-live="polite">
        {created && <CreatedPoll poll={created} />}
        {failure && (
          <p className="notice notice-error" role="alert">
            {failure}
          </p>
        )}
      </div>
      <fieldset className="choice-row">
        <legend>{t('template')}</legend>
        <label className="radio">
          <input
            type="radio"
            name="template"
            checked={template === 'lunch'}
            onChange={() => setTemplate('lunch')}
          />
          {t('lunch')}
        </label>
        <label className="radio">
          <input
            type="radio"
            name="template"
            checked={template === 'choice'}
            onChange={() => setTemplate('choice')}
          />
          {t('choice')}
        </label>
      </fieldset>
      <label htmlFor="title">{t('title')}</label>
      <input
        id="title"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        maxLength={120}
        {...field('title')}
      />
      {fieldError('title')}
      {template === 'lunch' ? (
        <>
          <label htmlFor="places">{t('places')}</label>
          <textarea
            id="places"
            rows={7}
            value={placesText}
            onChange={(e) => setPlacesText(e.target.value)}
            {...field('places')}
          />
          {fieldError('places')}
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
            {...field('options')}
          />
          {fieldError('options')}
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
            {...field('closes')}
          />
          {fieldError('closes')}
        </div>
        <div>
          <label htmlFor="max">{t('maxChoices')}</label>
          <input
            id="max"
            type="number"
            min={1}
            max={10}
            value={maxChoices}
            onChange={(e) => setMaxChoices(e.target.value)}
            {...field('max')}
          />
          {fieldError('max')}
        </div>
      </div>
      <label className="check">
        <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.target.checked)} />
        {t('anonymous')}
      </label>
      <label className="check">
        <input type="checkbox" checked={hidden} onChange={(e) => setHidden(e.target.checked)} />
        {t('hideResults')}
      </label>
      {hidden && (
        <>
          <label className="check check-sub">
            <input type="checkbox" checked={showTurnout} onChange={(e) => setShowTurnout(e.target.checked)} />
            {t('showTurnout')}
          </label>
          <p className="hint check-sub">{t('revealNote')}</p>
        </>
      )}
      <label className="check">
        <input type="checkbox" checked={allowAdd} onChange={(e) => setAllowAdd(e.target.checked)} />
        {t('allowAdd')}
      </label>
      <button type="submit" className="primary" disabled={create.isPending}>
        {t('create')}
      </button>
    </form>
  );
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/** After creating: where the poll lives, to open on the TV and to share, with the QR code the room can scan. */
function CreatedPoll({ poll }: { poll: Created }) {
  const { t } = useI18n();
  const board = `${location.origin}/board/${poll.id}`;
  const vote = `${location.origin}/p/${poll.id}`;
  return (
    <div className="notice created" role="status">
      <p className="created-title">{t('createdPoll', { title: poll.title })}</p>
      <p>{t('scanOrOpen')}</p>
      <div className="created-links">
        <Qr value={vote} size={132} />
        <ul>
          <li>
            {t('board')}: <a href={board}>{board}</a>
          </li>
          <li>
            {t('votePage')}: <a href={vote}>{vote}</a>
          </li>
        </ul>
      </div>
    </div>
  );
}

function PollList({ token }: { token: string }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const polls = useQuery({ queryKey: ['polls'], queryFn: listPolls, refetchInterval: 10_000 });
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  // Keyboard users keep their place: the question takes the focus when it opens (on Cancel, the safe answer), and
  // gives it back to its "Close now" button when it is dismissed (Cancel or Escape).
  const [refocus, setRefocus] = useState<string | null>(null);
  const dismiss = (id: string) => {
    setConfirming(null);
    setRefocus(id);
  };
  // Stable, so React calls it when the button mounts only, not on every render (a refetch would steal the focus).
  const focusOnMount = useCallback((el: HTMLButtonElement | null) => el?.focus(), []);
  const close = useMutation({
    mutationFn: (p: PollSummary) => closePoll(token, p.id),
    onSuccess: (_r, p) => {
      setConfirming(null);
      setNote({ ok: true, text: t('closedDone', { title: p.title }) });
      return client.invalidateQueries({ queryKey: ['polls'] });
    },
    onError: (e) => {
      const s = serverErrorText(e);
      setNote({ ok: false, text: t(s.key) });
    },
  });
  const reveal = useMutation({
    mutationFn: (p: PollSummary) => revealResults(token, p.id),
    onSuccess: (_r, p) => {
      setNote({ ok: true, text: t('revealedDone', { title: p.title }) });
      return client.invalidateQueries({ queryKey: ['polls'] });
    },
    onError: (e) => setNote({ ok: false, text: t(serverErrorText(e).key) }),
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
      setNote({ ok: false, text: t(serverErrorText(e).key) });
    }
  };
  // The clipboard exists only in a secure context (https or this machine): elsewhere, or if it refuses, the link is
  // shown to copy by hand rather than reported as copied.
  const copy = async (path: string) => {
    const link = `${location.origin}${path}`;
    const copied = await (navigator.clipboard?.writeText(link).then(
      () => true,
      () => false,
    ) ?? Promise.resolve(false));
    setNote({ ok: copied, text: `${copied ? t('copied') : t('copyByHand')}: ${link}` });
  };
  const list: PollSummary[] = polls.data?.polls ?? [];
  return (
    <section className="card">
      <h2>{t('polls')}</h2>
      {note && (
        <p className={note.ok ? 'notice' : 'notice notice-error'} role="status">
          {note.text}
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
              {p.status === 'open' && p.results_hidden && (
                <button type="button" disabled={reveal.isPending} onClick={() => reveal.mutate(p)}>
                  {t('revealNow')}
                </button>
              )}
              {p.status === 'open' && confirming !== p.id && (
                <button
                  type="button"
                  className="danger"
                  onClick={() => setConfirming(p.id)}
                  ref={(el) => {
                    if (el && refocus === p.id) {
                      el.focus();
                      setRefocus(null);
                    }
                  }}
                >
                  {t('closeNow')}
                </button>
              )}
            </div>
            {p.status === 'open' && confirming === p.id && (
              <div
                className="confirm"
                role="alertdialog"
                aria-label={t('closeNow')}
                onKeyDown={(e) => {
                  if (e.key === 'Escape') dismiss(p.id);
                }}
              >
                <p>{t('confirmClose', { title: p.title })}</p>
                <div className="row">
                  <button
                    type="button"
                    className="danger"
                    disabled={close.isPending}
                    onClick={() => close.mutate(p)}
                  >
                    {t('yesClose')}
                  </button>
                  <button type="button" onClick={() => dismiss(p.id)} ref={focusOnMount}>
                    {t('cancel')}
                  </button>
                </div>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
