// Builds the tally snapshot (the `vote_update` data) from a poll definition and the store's counters.
import { type Leader, type Poll, type QuestionTally, type Snapshot, winnersOf } from '../protocol/index.ts';
import { decisionText } from './lunch/decide.ts';

export interface TallyCounts {
  version: number;
  status: Poll['status'];
  totalVoters: number;
  /** option id → votes; `#<question id>` → ballots in that question. */
  counts: Readonly<Record<string, number>>;
  /** The close time as the store has it at this version (ISO, UTC); absent: the definition's is current. */
  closesAt?: string | null;
}

export const questionCountKey = (questionId: string): string => `#${questionId}`;

export function buildSnapshot(poll: Poll, t: TallyCounts): Snapshot {
  const hidden = poll.settings.results_hidden && t.status === 'open';
  const count = (key: string) => (hidden ? 0 : (t.counts[key] ?? 0));
  // Turnout is a result too: how many have voted, and whether a quorum is near. A poll that hides its results shows
  // it only when its creator chose to. (The version still moves with every change, so a watcher can tell that
  // something changed, not who voted or for what.)
  const turnoutHidden = hidden && poll.settings.show_turnout !== true;
  const turnout = (n: number) => (turnoutHidden ? 0 : n);
  const questions: QuestionTally[] = poll.questions.map((q) => {
    const options = q.options.map((o) => ({
      option_id: o.id,
      label: o.label,
      ...(o.place_id ? { place_id: o.place_id } : {}),
      vote_count: count(o.id),
    }));
    return {
      question_id: q.id,
      kind: q.kind,
      voters: turnout(t.counts[questionCountKey(q.id)] ?? 0),
      leader: leaderOf(options)?.option_id ?? null,
      options,
    };
  });
  const first = questions[0];
  const top = first ? leaderOf(first.options) : undefined;
  const snapshot: Snapshot = {
    poll_id: poll.id,
    version: t.version,
    status: t.status,
    closes_at: t.closesAt !== undefined ? t.closesAt : poll.closes_at,
    results_hidden: hidden,
    total_voters: turnout(t.totalVoters),
    leader: first && top ? { question_id: first.question_id, ...top } : null,
    questions,
  };
  if (poll.decision && t.status === 'closed') snapshot.decision = poll.decision;
  if (poll.template === 'lunch') {
    snapshot.place_votes = optionsOf(questions, 'place').map((o) => ({
      place_id: o.option_id,
      place_name: o.label,
      vote_count: o.vote_count,
    }));
    snapshot.menu_votes = optionsOf(questions, 'menu').map((o) => ({
      menu_id: o.option_id,
      menu_name: o.label,
      place_id: o.place_id ?? '',
      vote_count: o.vote_count,
    }));
  }
  return snapshot;
}

/** Whether a snapshot's voter counts are real: not while results are hidden, unless the poll shows its turnout. */
export const turnoutShown = (poll: Poll, snapshot: Snapshot): boolean =>
  !snapshot.results_hidden || poll.settings.show_turnout === true;

/** "· N voters" for a chat message, or nothing while the count is hidden (a "0 voters" there would mislead). */
export const votersLine = (poll: Poll, snapshot: Snapshot): string =>
  turnoutShown(poll, snapshot)
    ? ` · ${snapshot.total_voters} voter${snapshot.total_voters === 1 ? '' : 's'}`
    : '';

const optionsOf = (questions: QuestionTally[], kind: QuestionTally['kind']) =>
  questions.find((q) => q.kind === kind)?.options ?? [];

/** The single option with the most votes; none while nobody voted or when the top is shared. */
function leaderOf(options: QuestionTally['options']): Omit<Leader, 'question_id'> | undefined {
  let best: QuestionTally['options'][number] | undefined;
  let tied = false;
  for (const o of options) {
    if (!best || o.vote_count > best.vote_count) {
      best = o;
      tied = false;
    } else if (o.vote_count === best.vote_count) tied = true;
  }
  if (!best || best.vote_count === 0 || tied) return undefined;
  return { option_id: best.option_id, label: best.label, vote_count: best.vote_count };
}

/** Winners of a closed poll, per question, the lunch rules' decision first (the protocol's winnersOf). */
export const winners = winnersOf;

/**
 * The sentence a chat posts when a poll closes: the first question's winner, or the tie (ties are announced, not
 * broken). `em` marks a name up the platform's way (Slack `*x*`, Teams `**x**`); plain text by default.
 */
export function winnerText(snapshot: Snapshot, em: (name: string) => string = (n) => n): string {
  // A lunch poll decided by the lunch rules says who won and why (tie-breaks, quorum, early close).
  if (snapshot.decision) {
    const options = (snapshot.questions[0]?.options ?? []).map((o) => ({ id: o.option_id, label: o.label }));
    return decisionText(snapshot.decision, em, { options });
  }
  const first = snapshot.questions[0]?.question_id;
  const top = winners(snapshot).filter((w) => w.question_id === first);
  const votes = top[0]?.vote_count ?? 0;
  const names = top.map((w) => em(w.label));
  if (names.length === 0) return 'The poll closed with no votes.';
  if (names.length === 1) return `🏆 Winner: ${names[0]} with ${votes} vote${votes === 1 ? '' : 's'}`;
  return `🏆 A tie between ${names.slice(0, -1).join(', ')} and ${names.at(-1)} (${votes} each)`;
}
