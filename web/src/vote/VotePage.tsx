// The vote page, mobile first: one tap to vote, change or take back; optimistic, rolled back on error; keeps
// updating when the socket is down. Lunch polls: places first, then the menus of the chosen place.
import type { Poll, PollQuestion, QuestionTally, Snapshot } from '@livevote/core/protocol';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, castVote, fetchMyVotes, retractVote, type Who } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { WinnerExtras } from '../lunch/WinnerExtras.tsx';
import { mergeSnapshot } from '../realtime/snapshot-cache.ts';
import { useLivePoll } from '../realtime/useLivePoll.ts';
import { ConnectionBadge, Countdown, PresenceLine } from '../ui/widgets.tsx';
import { applyTap, withPending } from './optimistic.ts';

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

interface Pending {
  questionId: string;
  before: string[];
  after: string[];
}

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
  const [mine, setMine] = useState<Record<string, string[]>>({});
  const [pending, setPending] = useState<Pending | null>(null);
  const [message, setMessage] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);

  useEffect(() => {
    if (my.data) setMine(my.data.ballots);
  }, [my.data]);

  // "N people voting…" on the board while this ballot is open on a visible screen.
  const { sendMessage, isConnected } = socket;
  useEffect(() => {
    if (!isConnected) return;
    const say = () => document.visibilityState === 'visible' && sendMessage('voting', { poll_id: pollId });
    say();
    const id = setInterval(say, 4_000);
    return () => clearInterval(id);
  }, [isConnected, sendMessage, pollId]);

  if (error && !poll) return <main className="page vote">{t('unknownPoll')}</main>;
  if (!poll || !snapshot) return <main className="page vote">{t('connecting')}</main>;

  const closed = snapshot.status === 'closed';
  const shown: Snapshot = pending
    ? withPending(snapshot, pending.questionId, pending.before, pending.after)
    : snapshot;

  async function tap(question: PollQuestion, optionId: string) {
    if (closed || pending) return;
    const before = mine[question.id] ?? [];
    const r = applyTap(question, before, optionId);
    if (!r.ok) {
      setMessage({ kind: 'info', text: t('limitReached', { n: question.max_choices }) });
      return;
    }
    setMessage(null);
    setPending({ questionId: question.id, before, after: r.next });
    setMine((m) => ({ ...m, [question.id]: r.next }));
    try {
      const res =
        r.next.length === 0
          ? await retractVote(pollId, who, question.id)
          : await castVote(pollId, who, question.id, r.next, crypto.randomUUID());
      mergeSnapshot(client, res.snapshot);
      setMine((m) => ({ ...m, [question.id]: res.option_ids }));
    } catch (e) {
      setMine((m) => ({ ...m, [question.id]: before })); // roll back
      const msg =
        e instanceof ApiError ? (e.code === 'poll_closed' ? t('pollClosed') : e.message) : String(e);
      setMessage({ kind: 'error', text: t('voteFailed', { msg }) });
    } finally {
      setPending(null);
    }
  }

  const place = poll.questions.find((q) => q.kind === 'place');
  const menu = poll.questions.find((q) => q.kind === 'menu');
  const chosenPlaces = place ? (mine[place.id] ?? []) : [];

  return (
    <main className="page vote">
      <header className="vote-head">
        <h1>{poll.title}</h1>
        <div className="vote-meta">
          <span className={`pill pill-${snapshot.status}`}>{closed ? t('closed') : t('live')}</span>
          {!closed && <Countdown closesAt={poll.closes_at} />}
          <ConnectionBadge connection={connection} />
        </div>
        <div className="vote-meta">
          <PresenceLine online={presence.online} voting={presence.voting} />
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
      {closed && <WinnerExtras snapshot={snapshot} who={who} />}
      {message && (
        <p className={message.kind === 'error' ? 'notice notice-error' : 'notice'} role="alert">
          {message.text}
        </p>
      )}
      {shown.results_hidden && <p className="notice">{t('resultsHidden')}</p>}

      {poll.template === 'lunch' && place ? (
        <>
          <Question
            question={place}
            tally={shown.questions.find((q) => q.question_id === place.id)}
            heading={t('wherePlace')}
            mine={mine[place.id] ?? []}
            disabled={closed || pending !== null}
            hidden={shown.results_hidden}
            onTap={tap}
          />
          {menu &&
            (chosenPlaces.length === 0 ? (
              <p className="hint">{t('pickPlaceFirst')}</p>
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
                disabled={closed || pending !== null}
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
            heading={q.prompt}
            mine={mine[q.id] ?? []}
            disabled={closed || pending !== null}
            hidden={shown.results_hidden}
            onTap={tap}
          />
        ))
      )}
      <p className="hint">{t('tapToVote')}</p>
    </main>
  );
}

function Question(props: {
  question: Poll['questions'][number];
  tally: QuestionTally | undefined;
  heading: string;
  mine: string[];
  disabled: boolean;
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
          const n = counts.get(o.id) ?? 0;
          return (
            <li key={o.id}>
              <button
                type="button"
                className={selected ? 'choice choice-selected' : 'choice'}
                aria-pressed={selected}
                disabled={props.disabled}
                onClick={() => props.onTap(question, o.id)}
                data-option={o.id}
              >
                <span
                  className="choice-fill"
                  style={{ width: props.hidden ? '0%' : `${(n / max) * 100}%` }}
                  aria-hidden="true"
                />
                <span className="choice-label">
                  <span className="choice-check" aria-hidden="true">
                    {selected ? '✓' : ''}
                  </span>
                  {o.label}
                  {o.label_en && <span className="choice-en">{o.label_en}</span>}
                </span>
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
