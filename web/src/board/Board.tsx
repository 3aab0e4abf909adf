// The TV board (1920×1080, read across a room): big bars that move on every vote, the leader highlighted, a banner
// when the lead changes, presence, countdown, a QR code to the vote page, a votes-over-time line, a winner screen.
import type { Leader, QuestionTally, ServerFrame, Snapshot } from '@livevote/core/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { WinnerExtras } from '../lunch/WinnerExtras.tsx';
import { useLivePoll } from '../realtime/useLivePoll.ts';
import { ConnectionBadge, Countdown, PresenceLine, Qr } from '../ui/widgets.tsx';
import { VotesChart } from './VotesChart.tsx';

const BANNER_MS = 5_000;

export function Board({ pollId }: { pollId: string }) {
  const { t, votes, toggle } = useI18n();
  const [banner, setBanner] = useState<string | null>(null);
  const bannerTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const onFrame = useCallback((f: ServerFrame) => {
    if (
      f.type === 'leader_changed' &&
      f.data.label &&
      (f.data.question_id === 'place' || f.data.question_id === 'q1')
    ) {
      setBanner(f.data.label);
      clearTimeout(bannerTimer.current);
      bannerTimer.current = setTimeout(() => setBanner(null), BANNER_MS);
    }
  }, []);
  useEffect(() => () => clearTimeout(bannerTimer.current), []);
  const { poll, snapshot, presence, connection, error } = useLivePoll(pollId, null, onFrame);

  useEffect(() => {
    document.documentElement.dataset.theme = 'board';
    return () => {
      delete document.documentElement.dataset.theme;
    };
  }, []);

  if (error && !poll) return <main className="board board-message">{t('unknownPoll')}</main>;
  if (!poll || !snapshot) return <main className="board board-message">{t('connecting')}</main>;

  const voteUrl = `${location.origin}/p/${encodeURIComponent(pollId)}`;
  const [main, ...rest] = snapshot.questions;
  const leaderPlace = main?.leader ?? null;
  const menus = rest.find((q) => q.kind === 'menu');
  const optionLabelEn = new Map(
    poll.questions.flatMap((q) => q.options.map((o) => [o.id, o.label_en] as const)),
  );

  return (
    <main className="board" aria-labelledby="board-title">
      <header className="board-head">
        <h1 id="board-title">{poll.title}</h1>
        <div className="board-meta">
          <span className={`pill pill-${snapshot.status}`}>
            {snapshot.status === 'open' ? t('live') : t('closed')}
          </span>
          {snapshot.status === 'open' && <Countdown closesAt={poll.closes_at} />}
          <PresenceLine online={presence.online} voting={presence.voting} />
          <ConnectionBadge connection={connection} />
          <button type="button" className="lang" onClick={toggle} aria-label="language">
            {t('language')}
          </button>
        </div>
      </header>

      {banner && (
        <div className="banner" role="status">
          <span className="banner-kicker">{t('newLeader')}</span> {banner}
        </div>
      )}

      <section className="board-main">
        {main && (
          <Bars
            question={main}
            labelsEn={optionLabelEn}
            hidden={snapshot.results_hidden}
            size={main.options.length <= 6 ? 'big' : main.options.length <= 10 ? 'mid' : 'small'}
          />
        )}
        {menus && leaderPlace && (
          <div className="board-menus">
            <h2>{main?.options.find((o) => o.option_id === leaderPlace)?.label}</h2>
            <Bars
              question={{ ...menus, options: menus.options.filter((o) => o.place_id === leaderPlace) }}
              labelsEn={optionLabelEn}
              hidden={snapshot.results_hidden}
              size="small"
            />
          </div>
        )}
        {snapshot.results_hidden && <p className="hidden-note">{t('resultsHidden')}</p>}
      </section>

      <aside className="board-side">
        <div className="qr-card">
          <Qr value={voteUrl} size={260} />
          <p className="qr-label">{t('scanToVote')}</p>
          <p className="qr-url">{voteUrl.replace(/^https?:\/\//, '')}</p>
        </div>
        {/* While results are hidden the count is too (the server sends 0), unless the poll shows its turnout. */}
        {(!snapshot.results_hidden || poll.settings.show_turnout) && (
          <>
            <div className="total">
              <span className="total-n">{snapshot.total_voters}</span>
              <span className="total-label">{t('voters', { n: '' }).trim()}</span>
            </div>
            <VotesChart total={snapshot.total_voters} label={t('votesOverTime')} />
          </>
        )}
      </aside>

      <p className="sr-only" aria-live="polite">
        {snapshot.leader
          ? `${t('newLeader')}: ${snapshot.leader.label}, ${votes(snapshot.leader.vote_count)}`
          : ''}
      </p>

      {snapshot.status === 'closed' && <WinnerScreen snapshot={snapshot} title={poll.title} />}
    </main>
  );
}

function Bars({
  question,
  labelsEn,
  hidden,
  size,
}: {
  question: QuestionTally;
  labelsEn: Map<string, string | undefined>;
  hidden: boolean;
  size: 'big' | 'mid' | 'small';
}) {
  const { votes } = useI18n();
  const max = Math.max(1, ...question.options.map((o) => o.vote_count));
  const total = question.options.reduce((n, o) => n + o.vote_count, 0);
  return (
    <ol className={`bars bars-${size}`}>
      {question.options.map((o) => {
        const leader = !hidden && o.option_id === question.leader;
        const en = labelsEn.get(o.option_id);
        return (
          <li key={o.option_id} className={leader ? 'bar bar-leader' : 'bar'}>
            <div className="bar-text">
              <span className="bar-name">
                {leader && <span className="crown">1</span>}
                {o.label}
                {en && <span className="bar-en">{en}</span>}
              </span>
              {!hidden && (
                <span className="bar-count">
                  {o.vote_count}
                  <span className="bar-pct">
                    {total > 0 ? ` · ${Math.round((o.vote_count / total) * 100)}%` : ''}
                  </span>
                </span>
              )}
            </div>
            <div className="bar-track" aria-hidden="true">
              <div className="bar-fill" style={{ width: hidden ? '0%' : `${(o.vote_count / max) * 100}%` }} />
            </div>
            <span className="sr-only">{votes(o.vote_count)}</span>
          </li>
        );
      })}
    </ol>
  );
}

function WinnerScreen({ snapshot, title }: { snapshot: Snapshot; title: string }) {
  const { t, votes } = useI18n();
  const main = snapshot.questions[0];
  if (!main) return null;
  const top = Math.max(0, ...main.options.map((o) => o.vote_count));
  const winners: Leader[] = main.options
    .filter((o) => top > 0 && o.vote_count === top)
    .map((o) => ({
      question_id: main.question_id,
      option_id: o.option_id,
      label: o.label,
      vote_count: o.vote_count,
    }));
  const runnersUp = main.options
    .filter((o) => o.vote_count < top && o.vote_count > 0)
    .sort((a, b) => b.vote_count - a.vote_count)
    .slice(0, 3);
  const menu = snapshot.questions.find((q) => q.kind === 'menu');
  const topMenu = menu?.options
    .filter((o) => winners.some((w) => w.option_id === o.place_id))
    .sort((a, b) => b.vote_count - a.vote_count)[0];
  return (
    <div className="winner" role="dialog" aria-label={t('winner')}>
      <p className="winner-title">{title}</p>
      <p className="winner-kicker">{winners.length > 1 ? t('tie') : t('winner')}</p>
      {winners.length === 0 ? (
        <p className="winner-name">{t('noVotes')}</p>
      ) : (
        winners.map((w) => (
          <p key={w.option_id} className="winner-name">
            {w.label}
          </p>
        ))
      )}
      {winners[0] && <p className="winner-count">{votes(winners[0].vote_count)}</p>}
      {topMenu && topMenu.vote_count > 0 && <p className="winner-menu">{topMenu.label}</p>}
      <WinnerExtras snapshot={snapshot} />
      {runnersUp.length > 0 && (
        <ol className="runners-up">
          {runnersUp.map((o) => (
            <li key={o.option_id}>
              {o.label} <span>{votes(o.vote_count)}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
