// The TV board, read across a room on any screen from 1280×720 to 3840×2160: one 16:9 stage whose every size is
// in stage units (plan.ts), bars in the largest type that fits every option (else "+N more"), one reserved line for
// news (waiting, leader, tie, hidden results) that never covers anything, the join link and a large QR code,
// voters over time from the server's history, a winner screen; dimmed with "connection lost" when it is not live.
import { closesAtOf, type Poll, type QuestionTally, type Snapshot } from '@livevote/core/protocol';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { fetchTimeline } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useLivePoll } from '../realtime/useLivePoll.ts';
import { useDocumentTitle } from '../ui/document-title.ts';
import { ConnectionBadge, Countdown, PresenceLine, Qr } from '../ui/widgets.tsx';
import { type BarsPlan, pickShown, planBars, ROW_U, stageUnit } from './plan.ts';
import { VotesChart } from './VotesChart.tsx';
import { WinnerScreen } from './WinnerScreen.tsx';

const NEWS_MS = 6_000;
/** The menus panel of a lunch poll: a heading and one row of two menus, always there (no jump on a tie). */
const MENU_ROWS = 1;
const MENU_HEAD_U = 4;

type Tally = QuestionTally['options'][number];

/** The options with the most votes (several on a tie); none before the first vote or while results are hidden. */
export function topOptions(q: QuestionTally | undefined, hidden: boolean): Tally[] {
  if (!q || hidden) return [];
  const top = Math.max(0, ...q.options.map((o) => o.vote_count));
  return top > 0 ? q.options.filter((o) => o.vote_count === top) : [];
}

export type News =
  | { kind: 'hidden' }
  | { kind: 'waiting' }
  | { kind: 'new-leader'; label: string }
  | { kind: 'leader'; label: string; votes: number }
  | { kind: 'tie'; labels: string[] };

/** The one line of news the board shows under its title. */
export function newsOf(main: QuestionTally | undefined, hidden: boolean, freshLeader: string | null): News {
  if (hidden) return { kind: 'hidden' };
  const top = topOptions(main, false);
  const first = top[0];
  if (!first) return { kind: 'waiting' };
  if (top.length > 1) return { kind: 'tie', labels: top.map((o) => o.label) };
  if (freshLeader === first.option_id) return { kind: 'new-leader', label: first.label };
  return { kind: 'leader', label: first.label, votes: first.vote_count };
}

const readStage = () => ({ u: stageUnit(innerWidth, innerHeight), height: innerHeight });

/** Stage unit and height in px, following the window. */
function useStage(): { u: number; height: number } {
  const [stage, setStage] = useState(readStage);
  useEffect(() => {
    const on = () => setStage(readStage());
    addEventListener('resize', on);
    return () => removeEventListener('resize', on);
  }, []);
  return stage;
}

/** The height, in px, the grid gives an element (its share of the stage), kept current. */
function useHeight<T extends HTMLElement>(): [React.RefObject<T | null>, number | null] {
  const ref = useRef<T>(null);
  const [h, setH] = useState<number | null>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setH(el.clientHeight);
    const ro = new ResizeObserver(() => setH(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, h];
}

export function Board({ pollId }: { pollId: string }) {
  const { t, lang } = useI18n();
  const { poll, snapshot, presence, connection, error, lastContact } = useLivePoll(pollId, null);
  useDocumentTitle(poll?.title, t('board'));

  useEffect(() => {
    document.documentElement.dataset.theme = 'board';
    return () => {
      delete document.documentElement.dataset.theme;
    };
  }, []);

  if (error && !poll) return <main className="board board-message">{t('unknownPoll')}</main>;
  if (!poll || !snapshot) return <main className="board board-message">{t('connecting')}</main>;
  return (
    <LiveBoard
      poll={poll}
      snapshot={snapshot}
      presence={presence}
      connection={connection}
      lastContact={lastContact}
      lang={lang}
    />
  );
}

function LiveBoard({
  poll,
  snapshot,
  presence,
  connection,
  lastContact,
  lang,
}: {
  poll: Poll;
  snapshot: Snapshot;
  presence: { online: number; voting: number };
  connection: ReturnType<typeof useLivePoll>['connection'];
  lastContact: number | null;
  lang: string;
}) {
  const { t, toggle } = useI18n();
  const stage = useStage();
  const [mainRef, mainPx] = useHeight<HTMLElement>();
  const timeline = useQuery({
    queryKey: ['timeline', poll.id],
    queryFn: () => fetchTimeline(poll.id),
    staleTime: Number.POSITIVE_INFINITY,
  });

  const hidden = snapshot.results_hidden;
  const [main, ...rest] = snapshot.questions;
  const menus = rest.find((q) => q.kind === 'menu');
  const labelsEn = new Map(poll.questions.flatMap((q) => q.options.map((o) => [o.id, o.label_en] as const)));
  const top = topOptions(main, hidden);
  const leaderId = top.length === 1 ? (top[0]?.option_id ?? null) : null;

  // A new leader is news for a few seconds, in the news line (never over the title).
  const [fresh, setFresh] = useState<string | null>(null);
  const lastLeader = useRef<string | null | undefined>(undefined);
  useEffect(() => {
    const before = lastLeader.current;
    lastLeader.current = leaderId;
    if (before === undefined || leaderId === null || leaderId === before) return;
    setFresh(leaderId);
    const id = setTimeout(() => setFresh(null), NEWS_MS);
    return () => clearTimeout(id);
  }, [leaderId]);

  // The menus panel follows the leading place; on a tie it keeps the last one rather than emptying.
  const menuPlace = useRef<string[]>([]);
  if (top.length > 0) menuPlace.current = top.map((o) => o.option_id);

  // Screen readers hear real changes only: a new leader, a tie, the close. Not every vote.
  const announcement = useAnnouncement(main, hidden, snapshot.status === 'closed');

  const news = newsOf(main, hidden, fresh);
  const offline = connection === 'offline';
  const u = stage.u;
  const menuPanelU = menus ? MENU_HEAD_U + MENU_ROWS * ROW_U.m.plain : 0;
  const availU = (mainPx ?? stage.height - 18 * u) / u - menuPanelU;
  const hasEn = !!main?.options.some((o) => labelsEn.get(o.option_id));
  const plan = planBars(main?.options.length ?? 0, hasEn, availU);

  const voteUrl = `${location.origin}/p/${encodeURIComponent(poll.id)}`;
  const self = connection === 'live' || connection === 'sse' ? 1 : 0; // this board is one of the watchers
  const time = lastContact
    ? new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(lastContact)
    : null;
  const history = (timeline.data?.points ?? []).map((p) => ({ t: Date.parse(p.at), n: p.voters }));

  return (
    <main
      className={`board${offline ? ' board-offline' : ''}`}
      aria-labelledby="board-title"
      data-density={plan.density}
      data-columns={plan.columns}
    >
      <header className="board-head">
        <h1 id="board-title" className="board-title">
          {poll.title}
        </h1>
        <div className="board-meta">
          <span className={`pill pill-${snapshot.status}`}>
            {snapshot.status === 'open' ? t('live') : t('closed')}
          </span>
          {snapshot.status === 'open' && <Countdown closesAt={closesAtOf(poll, snapshot)} />}
          {offline ? (
            <span className="conn conn-offline conn-lost" data-connection="offline" role="status">
              <span className="conn-dot" aria-hidden="true" />
              {time ? t('connLost', { time }) : t('connLostNever')}
            </span>
          ) : (
            <>
              {connection !== 'polling' && presence.online - self + presence.voting > 0 && (
                <PresenceLine online={Math.max(0, presence.online - self)} voting={presence.voting} />
              )}
              <ConnectionBadge connection={connection} />
            </>
          )}
          <button type="button" className="lang" onClick={toggle}>
            {t('language')}
          </button>
        </div>
      </header>

      <p className={`news news-${news.kind}`} data-news={news.kind}>
        <NewsLine news={news} />
      </p>

      <section className="board-main" ref={mainRef}>
        {main && <Bars question={main} labelsEn={labelsEn} hidden={hidden} plan={plan} leaders={top} u={u} />}
        {menus && (
          <MenusPanel
            menus={menus}
            places={main}
            placeIds={menuPlace.current}
            labelsEn={labelsEn}
            hidden={hidden}
          />
        )}
      </section>

      <aside className="board-side">
        <div className="qr-card">
          <Qr value={voteUrl} size={360} />
          <p className="qr-label">{t('scanToVote')}</p>
          <p className="qr-url" data-testid="join-url">
            <span>{location.host}</span>
            <span>/p/{poll.id}</span>
          </p>
        </div>
        {/* While results are hidden the count is too (the server sends 0), unless the poll shows its turnout. */}
        {(!hidden || poll.settings.show_turnout) && (
          <>
            <div className="total">
              <span className="total-n">{snapshot.total_voters}</span>
              <span className="total-label">{t('voters', { n: '' }).trim()}</span>
            </div>
            <VotesChart
              voters={main?.voters ?? snapshot.total_voters}
              history={history}
              start={Date.parse(poll.created_at)}
              label={t('votesOverTime')}
            />
          </>
        )}
      </aside>

      <p className="sr-only" aria-live="polite" data-testid="announcer">
        {announcement}
      </p>

      {snapshot.status === 'closed' && <WinnerScreen snapshot={snapshot} title={poll.title} />}
    </main>
  );
}

function NewsLine({ news }: { news: News }) {
  const { t, votes } = useI18n();
  switch (news.kind) {
    case 'hidden':
      return <>{t('resultsHidden')}</>;
    case 'waiting':
      return <>{t('waitingFirst')}</>;
    case 'new-leader':
      return (
        <>
          <span className="news-kicker">{t('newLeader')}</span>{' '}
          <span className="news-name">{news.label}</span>
        </>
      );
    case 'leader':
      return (
        <>
          <span className="news-kicker">{t('leading')}</span> <span className="news-name">{news.label}</span>{' '}
          <span className="news-votes">{votes(news.votes)}</span>
        </>
      );
    case 'tie':
      return <span className="news-name">{t('tieBetween', { names: news.labels.join(' · ') })}</span>;
  }
}

function useAnnouncement(main: QuestionTally | undefined, hidden: boolean, closed: boolean): string {
  const { t } = useI18n();
  const top = topOptions(main, hidden);
  const key = closed ? `closed:${top.map((o) => o.option_id)}` : top.map((o) => o.option_id).join(',');
  const names = top.map((o) => o.label).join(', ');
  const [said, setSaid] = useState('');
  const lastKey = useRef<string | null>(null);
  useEffect(() => {
    const before = lastKey.current;
    lastKey.current = key;
    if (before === null || before === key) return; // the first look is not news
    if (closed) setSaid(t('winnerIs', { kind: top.length > 1 ? t('tie') : t('winner'), names }));
    else if (top.length > 1) setSaid(t('tieBetween', { names }));
    else if (top.length === 1) setSaid(`${t('newLeader')}: ${names}`);
  }, [key, closed, names, top.length, t]);
  return said;
}

function Bars({
  question,
  labelsEn,
  hidden,
  plan,
  leaders,
  u,
}: {
  question: QuestionTally;
  labelsEn: Map<string, string | undefined>;
  hidden: boolean;
  plan: BarsPlan;
  leaders: Tally[];
  u: number;
}) {
  const { t, votes } = useI18n();
  const max = Math.max(1, ...question.options.map((o) => o.vote_count));
  const total = question.options.reduce((n, o) => n + o.vote_count, 0);
  const shown = pickShown(question.options, plan.shown);
  const keep = new Set(shown.map((o) => o.option_id));
  const rest = question.options.filter((o) => !keep.has(o.option_id));
  const hasEn = question.options.some((o) => labelsEn.get(o.option_id));
  const rowPx = ROW_U[plan.density][hasEn ? 'en' : 'plain'] * u;
  const leaderIds = new Set(leaders.map((o) => o.option_id));
  return (
    <ol
      className={`bars bars-${plan.density} bars-cols-${plan.columns}${hasEn ? ' bars-en' : ''}`}
      style={{ gridTemplateRows: `repeat(${plan.rows}, ${rowPx}px)` }}
    >
      {shown.map((o) => {
        const leader = leaderIds.has(o.option_id);
        const en = labelsEn.get(o.option_id);
        return (
          <li key={o.option_id} className={leader ? 'bar bar-leader' : 'bar'} data-option={o.option_id}>
            <div className="bar-text">
              <span className="bar-name">{o.label}</span>
              {!hidden && (
                <span className="bar-count">
                  {o.vote_count}
                  <span className="bar-pct">
                    {total > 0 ? ` ${Math.round((o.vote_count / total) * 100)}%` : ''}
                  </span>
                </span>
              )}
            </div>
            {hasEn && (
              <span className="bar-en" lang="en">
                {en ?? ''}
              </span>
            )}
            <div className="bar-track" aria-hidden="true">
              <div className="bar-fill" style={{ width: hidden ? '0%' : `${(o.vote_count / max) * 100}%` }} />
            </div>
            {!hidden && <span className="sr-only">{votes(o.vote_count)}</span>}
          </li>
        );
      })}
      {rest.length > 0 && (
        <li className="bar bar-more" data-more={rest.length}>
          <div className="bar-text">
            <span className="bar-name">{t('moreOptions', { n: rest.length })}</span>
            {!hidden && (
              <span className="bar-count">{votes(rest.reduce((n, o) => n + o.vote_count, 0))}</span>
            )}
          </div>
          {hasEn && (
            <span className="bar-en">
              {rest
                .slice(0, 3)
                .map((o) => o.label)
                .join(' · ')}
            </span>
          )}
        </li>
      )}
    </ol>
  );
}

function MenusPanel({
  menus,
  places,
  placeIds,
  labelsEn,
  hidden,
}: {
  menus: QuestionTally;
  places: QuestionTally | undefined;
  placeIds: string[];
  labelsEn: Map<string, string | undefined>;
  hidden: boolean;
}) {
  const { t } = useI18n();
  const ofPlaces =
    placeIds.length > 0 ? menus.options.filter((o) => o.place_id && placeIds.includes(o.place_id)) : [];
  const list = (ofPlaces.length > 0 ? ofPlaces : menus.options)
    .filter((o) => hidden || o.vote_count > 0 || ofPlaces.length > 0)
    .sort((a, b) => b.vote_count - a.vote_count)
    .slice(0, MENU_ROWS * 2);
  const placeNames = placeIds
    .map((id) => places?.options.find((o) => o.option_id === id)?.label)
    .filter(Boolean)
    .join(' · ');
  const max = Math.max(1, ...list.map((o) => o.vote_count));
  return (
    <div className="board-menus" data-testid="menus">
      <h2>{placeNames ? t('menusAt', { place: placeNames }) : t('menus')}</h2>
      {list.length === 0 ? (
        <p className="menus-empty">{t('noMenuVotes')}</p>
      ) : (
        <ol className="bars bars-m bars-cols-2 menus-bars">
          {list.map((o) => (
            <li key={o.option_id} className="bar">
              <div className="bar-text">
                <span className="bar-name">
                  {o.label}
                  {labelsEn.get(o.option_id) ? (
                    <span className="sr-only"> {labelsEn.get(o.option_id)}</span>
                  ) : null}
                </span>
                {!hidden && <span className="bar-count">{o.vote_count}</span>}
              </div>
              <div className="bar-track" aria-hidden="true">
                <div
                  className="bar-fill"
                  style={{ width: hidden ? '0%' : `${(o.vote_count / max) * 100}%` }}
                />
              </div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
