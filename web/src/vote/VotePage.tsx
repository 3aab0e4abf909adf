// The vote page, mobile first: one tap to vote, change or take back; optimistic, rolled back on error; keeps
// updating when the socket is down. Lunch polls: places first, then the menus of the chosen place.
import {
  closesAtOf,
  type Poll,
  type PollQuestion,
  type QuestionTally,
  type Snapshot,
  winnersOf,
} from '@livevote/core/protocol';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { castVote, fetchMyVotes, retractVote, type Who } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { WinnerExtras } from '../lunch/WinnerExtras.tsx';
import { mergeSnapshot } from '../realtime/snapshot-cache.ts';
import { useLivePoll } from '../realtime/useLivePoll.ts';
import { useDocumentTitle } from '../ui/document-title.ts';
import { ConnectionBadge, Countdown, PresenceLine } from '../ui/widgets.tsx';
import { newIdempotencyKey } from './idempotency-key.ts';
import { applyTap, dishesKept, withPending } from './optimistic.ts';
import { VOTE_ERROR_TEXT, voteErrorKind } from './vote-errors.ts';

const EMP_KEY = 'livevote.emp_no';
const TOKEN_KEY = 'livevote.voter_token';

/** A signed link from Slack or Teams (?token=) wins; it is kept for this tab and taken out of the address bar. */
function tokenFromLink(): string | null {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    params.delete('token');
    history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}`);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function VotePage({ pollId }: { pollId: string }) {
  const [token] = useState(tokenFromLink);
  const [empNo, setEmpNo] = useState<string | null>(() => {
    const fromUrl = new URLSearchParams(location.search).get('emp_no');
    if (fromUrl && /^\d{1,20}$/.test(fromUrl)) {
      localStorage.setItem(EMP_KEY, fromUrl);
      return fromUrl;
    }
    return localStorage.getItem(EMP_KEY);
  });
  if (token) return <Ballot pollId={pollId} who={{ token }} label="✓" />;
  if (!empNo) return <WhoAreYou onDone={setEmpNo} />;
  return (
    <Ballot
      pollId={pollId}
      who={{ empNo }}
      label={`#${empNo}`}
      onSwitch={() => {
        localStorage.removeItem(EMP_KEY);
        setEmpNo(null);
      }}
    />
  );
}

function WhoAreYou({ onDone }: { onDone: (emp: string) => void }) {
  const { t } = useI18n();
  useDocumentTitle(t('whoAreYou'));
  const [value, setValue] = useState('');
  const valid = /^\d{1,20}$/.test(value);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    localStorage.setItem(EMP_KEY, value);
    onDone(value);
  };
  return (
    <main className="page vote">
      <form className="card who" onSubmit={submit}>
        <label htmlFor="emp">{t('whoAreYou')}</label>
        <input
          id="emp"
          inputMode="numeric"
          autoComplete="off"
          pattern="\d{1,20}"
          maxLength={20}
          value={value}
          onChange={(e) => setValue(e.target.value.replace(/\D/g, ''))}
        />
        <p className="hint">{t('whoAreYouHint')}</p>
        <button type="submit" className="primary" disabled={!valid}>
          {t('continue')}
        </button>
      </form>
    </main>
  );
}

type Message = { kind: 'error' | 'info'; text: string; network?: boolean };

function Ballot({
  pollId,
  who,
  label,
  onSwitch,
}: {
  pollId: string;
  who: Who;
  label: string;
  onSwitch?: () => void;
}) {
  const { t, toggle } = useI18n();
  const client = useQueryClient();
  const { poll, snapshot, presence, connection, error, socket } = useLivePoll(pollId, who);
  const my = useQuery({ queryKey: ['my-votes', pollId, label], queryFn: () => fetchMyVotes(pollId, who) });
  // What the voter sees as chosen (optimistic), and what the server last confirmed, per question.
  const [mine, setMine] = useState<Record<string, string[]>>({});
  const confirmed = useRef<Record<string, string[]>>({});
  // Taps go to the server one at a time, in order; choices stay enabled (and focused) meanwhile.
  const queue = useRef<Promise<void>>(Promise.resolve());
  const [inFlight, setInFlight] = useState<Record<string, number>>({});
  const [message, setMessage] = useState<Message | null>(null);
  useDocumentTitle(poll?.title, t('votePage'));

  useEffect(() => {
    if (my.data) {
      confirmed.current = { ...my.data.ballots };
      setMine(my.data.ballots);
    }
  }, [my.data]);

  // A "no connection" error goes away by itself once the server is back.
  useEffect(() => {
    if (connection === 'live' || connection === 'sse') setMessage((m) => (m?.network ? null : m));
  }, [connection]);

  const closed = snapshot?.status === 'closed';
  // "N people voting…" on the board while this ballot is open on a visible screen (not once it is closed).
  const { sendMessage, isConnected } = socket;
  useEffect(() => {
    if (!isConnected || closed) return;
    const say = () => document.visibilityState === 'visible' && sendMessage('voting', { poll_id: pollId });
    say();
    const id = setInterval(say, 4_000);
    return () => clearInterval(id);
  }, [isConnected, sendMessage, pollId, closed]);

  if (error && !poll) return <main className="page vote">{t('unknownPoll')}</main>;
  if (!poll || !snapshot) return <main className="page vote">{t('connecting')}</main>;

  let shown: Snapshot = snapshot;
  for (const [qid, n] of Object.entries(inFlight)) {
    if (n > 0) shown = withPending(shown, qid, confirmed.current[qid] ?? [], mine[qid] ?? []);
  }

  function tap(question: PollQuestion, optionId: string) {
    if (closed) return;
    const before = mine[question.id] ?? [];
    const r = applyTap(question, before, optionId);
    if (!r.ok) {
      setMessage({ kind: 'info', text: t('limitReached', { n: question.max_choices }) });
      return;
    }
    setMessage(null);
    submit(question, r.next);
    // A place taken back or changed takes its dishes along: they would be hidden here, yet still counted.
    const dishes = poll?.questions.find((q) => q.kind === 'menu');
    if (question.kind === 'place' && dishes) {
      const had = mine[dishes.id] ?? [];
      const kept = dishesKept(dishes, had, r.next);
      if (kept.length !== had.length) submit(dishes, kept);
    }
  }

  /** Shows the choice at once and sends it after the taps before it; rolls back to the server's on failure. */
  function submit(question: PollQuestion, next: string[]) {
    setMine((m) => ({ ...m, [question.id]: next }));
    const bump = (by: number) => setInFlight((f) => ({ ...f, [question.id]: (f[question.id] ?? 0) + by }));
    bump(1);
    queue.current = queue.current.then(async () => {
      try {
        const res =
          next.length === 0
            ? await retractVote(pollId, who, question.id)
            : await castVote(pollId, who, question.id, next, newIdempotencyKey());
        confirmed.current = { ...confirmed.current, [question.id]: res.option_ids };
        mergeSnapshot(client, res.snapshot);
      } catch (e) {
        const kind = voteErrorKind(e);
        // Back to what the server has; later taps in the queue still go out.
        setMine((m) => ({ ...m, [question.id]: confirmed.current[question.id] ?? [] }));
        setMessage({
          kind: 'error',
          network: kind === 'network',
          text:
            kind === 'limit'
              ? t('limitReached', { n: question.max_choices })
              : t('voteFailed', { msg: t(VOTE_ERROR_TEXT[kind]) }),
        });
      } finally {
        bump(-1);
      }
    });
  }

  const place = poll.questions.find((q) => q.kind === 'place');
  const menu = poll.questions.find((q) => q.kind === 'menu');
  const chosenPlaces = place ? (mine[place.id] ?? []) : [];
  // The lunch rules' decision where they decided: one place even after a tie, none on "no decision".
  const won = closed ? winnersOf(snapshot) : [];
  const winnersIn = (qid: string): Set<string> =>
    new Set(won.filter((w) => w.question_id === qid).map((w) => w.option_id));
  const single = poll.questions.length === 1;

  return (
    <main className="page vote">
      <header className="vote-head">
        <h1>{poll.title}</h1>
        <div className="vote-meta">
          <span className={`pill pill-${snapshot.status}`}>{closed ? t('closed') : t('live')}</span>
          {!closed && <Countdown closesAt={closesAtOf(poll, snapshot)} />}
          <ConnectionBadge connection={connection} />
        </div>
        <div className="vote-meta">
          {(connection === 'live' || connection === 'sse') && (
            <PresenceLine online={presence.online} voting={presence.voting} />
          )}
          <span className="me">
            {label}{' '}
            {onSwitch && (
              <button type="button" className="link" onClick={onSwitch}>
                {t('notYou')}
              </button>
            )}
          </span>
          <button type="button" className="link" onClick={toggle}>
            {t('language')}
          </button>
        </div>
      </header>

      {closed && <p className="notice">{t('pollClosed')}</p>}
      {poll.settings.anonymous && <p className="notice notice-quiet">{t('anonymousNote')}</p>}
      {closed && <WinnerExtras snapshot={snapshot} who={who} />}
      <div aria-live="polite" className="message-slot">
        {message && (
          <p className={message.kind === 'error' ? 'notice notice-error' : 'notice'} role="alert">
            {message.text}
          </p>
        )}
      </div>
      {shown.results_hidden && <p className="notice">{t('resultsHidden')}</p>}

      {poll.template === 'lunch' && place ? (
        <>
          <Question
            question={place}
            tally={shown.questions.find((q) => q.question_id === place.id)}
            heading={t('wherePlace')}
            mine={mine[place.id] ?? []}
            closed={closed}
            winners={winnersIn(place.id)}
            hidden={shown.results_hidden}
            onTap={tap}
          />
          {menu &&
            (chosenPlaces.length === 0 ? (
              !closed && <p className="hint">{t('pickPlaceFirst')}</p>
            ) : (
              <Question
                question={{
                  ...menu,
                  options: menu.options.filter((o) => o.place_id && chosenPlaces.includes(o.place_id)),
                }}
                tally={shown.questions.find((q) => q.question_id === menu.id)}
                heading={t('whatMenu', {
                  place: place.options
                    .filter((o) => chosenPlaces.includes(o.id))
                    .map((o) => o.label)
                    .join(', '),
                })}
                mine={mine[menu.id] ?? []}
                closed={closed}
                winners={winnersIn(menu.id)}
                hidden={shown.results_hidden}
                onTap={tap}
              />
            ))}
        </>
      ) : (
        poll.questions.map((q) => (
          <Question
            key={q.id}
            question={q}
            tally={shown.questions.find((x) => x.question_id === q.id)}
            // The quick form's only question is the title again: say what to do instead of repeating it.
            heading={single && q.prompt.trim() === poll.title.trim() ? t('pickOne') : q.prompt}
            mine={mine[q.id] ?? []}
            closed={closed}
            winners={winnersIn(q.id)}
            hidden={shown.results_hidden}
            onTap={tap}
          />
        ))
      )}
      {!closed && <p className="hint">{t('tapToVote')}</p>}
    </main>
  );
}

function Question(props: {
  question: Poll['questions'][number];
  tally: QuestionTally | undefined;
  heading: string;
  mine: string[];
  closed: boolean;
  winners: Set<string>;
  hidden: boolean;
  onTap: (q: PollQuestion, optionId: string) => void;
}) {
  const { t, votes } = useI18n();
  const { question, tally, mine } = props;
  const counts = new Map(tally?.options.map((o) => [o.option_id, o.vote_count]));
  const max = Math.max(1, ...counts.values());
  return (
    <section className="question" aria-labelledby={`q-${question.id}`}>
      <h2 id={`q-${question.id}`}>{props.heading}</h2>
      {question.max_choices > 1 && <p className="hint">{t('chooseUpTo', { n: question.max_choices })}</p>}
      <ul className="choices">
        {question.options.map((o) => {
          const selected = mine.includes(o.id);
          const winner = props.winners.has(o.id);
          const n = counts.get(o.id) ?? 0;
          return (
            <li key={o.id}>
              <button
                type="button"
                className={`choice${selected ? ' choice-selected' : ''}${winner ? ' choice-winner' : ''}`}
                aria-pressed={selected}
                disabled={props.closed}
                onClick={() => props.onTap(question, o.id)}
                data-option={o.id}
              >
                <span
                  className="choice-fill"
                  style={{ width: props.hidden ? '0%' : `${(n / max) * 100}%` }}
                  aria-hidden="true"
                />
                <span className="choice-check" aria-hidden="true">
                  {selected ? '✓' : ''}
                </span>
                <span className="choice-label">
                  <span className="choice-name">{o.label}</span>
                  {o.label_en && (
                    <span className="choice-en" lang="en">
                      {o.label_en}
                    </span>
                  )}
                </span>
                {winner && <span className="choice-badge">{t('winnerBadge')}</span>}
                {!props.hidden && (
                  <span className="choice-count">
                    <span aria-hidden="true">{n}</span>
                    <span className="sr-only">{votes(n)}</span>
                  </span>
                )}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
