// The board once the poll is closed: the winner (or the tie), its best menu, the runners-up. Where the lunch rules
// decided, theirs is the headline: the place they chose (a tie they broke too), or "no decision" (a quorum missed).
import { type Snapshot, winnersOf } from '@livevote/core/protocol';
import { useI18n } from '../i18n/i18n.tsx';
import { WinnerExtras } from '../lunch/WinnerExtras.tsx';

export function WinnerScreen({ snapshot, title }: { snapshot: Snapshot; title: string }) {
  const { t, votes } = useI18n();
  const main = snapshot.questions[0];
  if (!main) return null;
  const winners = winnersOf(snapshot).filter((w) => w.question_id === main.question_id);
  const noDecision = snapshot.decision?.outcome === 'no_decision';
  const runnersUp = main.options
    .filter((o) => o.vote_count > 0 && !winners.some((w) => w.option_id === o.option_id))
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
        <p className="winner-name">{noDecision ? t('noDecision') : t('noVotes')}</p>
      ) : (
        winners.map((w) => (
          <p key={w.option_id} className={winners.length > 1 ? 'winner-name winner-name-tie' : 'winner-name'}>
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
