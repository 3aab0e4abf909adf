// The fair close of a lunch poll, as a pure function: quorum (extend once, then "no decision"), a tie to the place
// visited least recently, then a seeded random pick anyone can re-run, and early close when the leader can no longer
// be caught. The store runs it inside the transaction that holds the poll, so it sees the final counts.
import { createHash } from 'node:crypto';
import type { Decision } from '../../protocol/index.ts';

export interface DecideInput {
  /** The place question's options with their final counts. */
  options: readonly { id: string; label: string; votes: number }[];
  totalVoters: number;
  quorum: number | null;
  /** The poll was already extended once for its quorum. */
  extended: boolean;
  /** Why it closes now: its close time came, someone closed it, or the early-close rule fired. */
  trigger: 'due' | 'manual' | 'early';
  /** Option id → last visit (YYYY-MM-DD); an option never visited is absent. */
  lastVisits: ReadonlyMap<string, string>;
  /** Hex seed for a random tie-break (printed with the result). */
  seed: string;
  /** For the "no decision" sentence: how long an extension lasted. */
  extendMinutes?: number;
}

export type DecideOutput =
  | { action: 'close'; decision: Decision }
  | { action: 'extend' }
  | { action: 'keep' };

export function decide(input: DecideInput): DecideOutput {
  const { quorum, totalVoters } = input;
  const base = { quorum, total_voters: totalVoters, ...(input.extended ? { extended: true } : {}) };
  if (quorum !== null && totalVoters < quorum) {
    if (input.trigger === 'early') return { action: 'keep' };
    if (input.trigger === 'due' && !input.extended) return { action: 'extend' };
    return close({ ...base, ...noDecision('quorum_not_met') }, input);
  }
  const top = Math.max(0, ...input.options.map((o) => o.votes));
  if (top === 0) return close({ ...base, ...noDecision('no_votes') }, input);
  const tied = input.options.filter((o) => o.votes === top);
  const [only] = tied;
  if (tied.length === 1 && only)
    return close({ ...base, ...winner(only, input.trigger === 'early' ? 'early' : 'majority') }, input);
  // A tie: the place visited longest ago (never visited counts as longest), then a seeded pick among the rest.
  const last = (id: string) => input.lastVisits.get(id) ?? '';
  const oldest = tied.map((o) => last(o.id)).sort()[0] ?? '';
  const candidates = tied.filter((o) => last(o.id) === oldest);
  const lastVisits = Object.fromEntries(tied.map((o) => [o.id, input.lastVisits.get(o.id) ?? null]));
  const tie = { tied: tied.map((o) => o.id), last_visits: lastVisits };
  if (candidates.length === 1 && candidates[0])
    return close({ ...base, ...winner(candidates[0], 'least_recent'), ...tie }, input);
  const pick =
    candidates[
      seededIndex(
        input.seed,
        candidates.map((c) => c.id),
      )
    ];
  if (!pick) throw new Error('seeded pick out of range');
  return close({ ...base, ...winner(pick, 'random'), ...tie, seed: input.seed }, input);
}

type Draft = Omit<Decision, 'text'>;

function close(d: Draft, input: DecideInput): DecideOutput {
  return { action: 'close', decision: { ...d, text: decisionText(d, (s) => s, input) } };
}

const noDecision = (reason: 'quorum_not_met' | 'no_votes') =>
  ({ outcome: 'no_decision', reason, option_id: null, label: null, vote_count: 0 }) as const;

const winner = (o: { id: string; label: string; votes: number }, reason: Decision['reason']) =>
  ({ outcome: 'decided', reason, option_id: o.id, label: o.label, vote_count: o.votes }) as const;

/**
 * The random tie-break, re-runnable by anyone: the candidates' option ids sorted and joined with ",", then
 * sha256("<seed>:<ids>"); its first 8 hex digits as a number, modulo the number of candidates, index the sorted ids.
 * Returns the index into `ids` as given.
 */
export function seededIndex(seed: string, ids: readonly string[]): number {
  const sorted = [...ids].sort();
  const digest = createHash('sha256')
    .update(`${seed}:${sorted.join(',')}`)
    .digest('hex');
  const chosen = sorted[Number.parseInt(digest.slice(0, 8), 16) % sorted.length];
  return ids.indexOf(chosen as string);
}

/** The leader is safe when the voters still expected cannot close the gap to the runner-up (one vote each). */
export function leaderCannotBeCaught(
  votes: readonly number[],
  totalVoters: number,
  expectedVoters: number,
): boolean {
  const [first = 0, second = 0] = [...votes].sort((a, b) => b - a);
  if (first === 0) return false;
  const remaining = Math.max(0, expectedVoters - totalVoters);
  return first - second > remaining;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The sentence for people, the same on every surface; `em` marks a name up the platform's way. */
export function decisionText(
  d: Draft,
  em: (name: string) => string = (s) => s,
  labels?: { options: readonly { id: string; label: string }[] },
): string {
  const name = (id: string) => labels?.options.find((o) => o.id === id)?.label ?? id;
  const others = (d.tied ?? []).filter((id) => id !== d.option_id).map((id) => em(name(id)));
  const when = (id: string) => d.last_visits?.[id] ?? null;
  switch (d.reason) {
    case 'no_votes':
      return 'No decision: nobody voted.';
    case 'quorum_not_met':
      return `No decision: ${d.total_voters} of the ${d.quorum ?? 0} voters needed took part${d.extended ? ', even after one extension' : ''}.`;
    case 'majority':
      return `🏆 Winner: ${em(d.label ?? '')} with ${plural(d.vote_count, 'vote')}.`;
    case 'early':
      return `🏆 Winner: ${em(d.label ?? '')} with ${plural(d.vote_count, 'vote')}, closed early: nobody left to vote could catch up.`;
    case 'least_recent': {
      const last = when(d.option_id ?? '');
      return `🏆 Winner: ${em(d.label ?? '')}, tied with ${others.join(', ')} at ${plural(d.vote_count, 'vote')}; it wins as the place visited longest ago (${last ? `last on ${last}` : 'never visited'}).`;
    }
    case 'random': {
      // The draw was among the tied places visited longest ago: all last visited on one day, or never.
      const last = when(d.option_id ?? '');
      return `🏆 Winner: ${em(d.label ?? '')}, tied with ${others.join(', ')} at ${plural(d.vote_count, 'vote')}; picked at random among those ${last ? `last visited on ${last}` : 'never visited'} (seed ${d.seed ?? ''}).`;
    }
  }
}
