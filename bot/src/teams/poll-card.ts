// The poll as an Adaptive Card (1.5, Universal Actions): counts and bars, the viewer's own vote when known, votes as
// Action.Execute (an Action.Submit fallback for older clients), take-back and close controls, and a refresh that
// names who should see their own view. Built to fit Teams' 28 KB message limit: when a level of detail does not fit,
// the next one shows fewer rows and choices, says "+N more" and links to the board.
import { votersLine, winners } from '@livevote/core';
import { closesAtOf, type Poll, type PollQuestion, type Snapshot } from '@livevote/core/protocol';

// biome-ignore lint/suspicious/noExplicitAny: Adaptive Cards are a wide JSON schema; Teams validates them
export type Card = Record<string, any>;

export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
/** Teams refuses a message larger than this (the whole activity, card included). */
export const MAX_CARD_BYTES = 28 * 1024;
/** Room left for the activity around the card (type, attachments wrapper, ids Teams adds). */
const ENVELOPE_BYTES = 1024;
/** Up to this many options of a choice poll, one button each; past it, a choice set and one Vote button. */
export const BUTTONS_UP_TO = 5;
/** A lunch poll with up to this many places gets one button per place. */
export const PLACE_BUTTONS_UP_TO = 6;
/** Teams refreshes a card by itself for at most this many named users. */
export const REFRESH_USERS_MAX = 60;

export interface CardOptions {
  publicUrl: string;
  /** The viewer's own choices (question id → option ids): a personal view. Absent: the card everyone shares. */
  mine?: Record<string, string[]>;
  /** In a personal view: whether the viewer may close the poll (its creator or a workspace admin). */
  mayClose?: boolean;
  /** Who gets a personal view by themselves (Teams user MRIs); absent: no list (anonymous polls). */
  refreshUserIds?: string[];
  /** A line at the top for the viewer alone (a refusal, "choose an option first"). */
  notice?: string;
  /** For tests: the size to fit under (default: Teams' limit less room for the activity). */
  maxBytes?: number;
  now?: Date;
}

/** How much a card shows; pollCard tries these in order until the card fits. */
interface Detail {
  /** Tally rows per question (the most voted first when cut). */
  rows: number;
  /** Choices per choice set (0: no choice set, vote on the web instead). */
  choices: number;
}
const DETAILS: Detail[] = [
  { rows: 12, choices: 1_000 },
  { rows: 12, choices: 300 },
  { rows: 10, choices: 150 },
  { rows: 8, choices: 80 },
  { rows: 5, choices: 40 },
  { rows: 3, choices: 15 },
  { rows: 3, choices: 0 },
];

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const bar = (n: number, max: number) => '█'.repeat(max === 0 ? 0 : Math.round((n / max) * 10)) || '·';
export const cardBytes = (card: Card): number => Buffer.byteLength(JSON.stringify(card));

type Verb = 'vote' | 'retract' | 'close';

function execute(verb: Verb, title: string, data: Record<string, string>, style?: string): Card {
  const d = { verb, ...data };
  return {
    type: 'Action.Execute',
    verb,
    title: clip(title, 40),
    data: d,
    ...(style ? { style } : {}),
    fallback: { type: 'Action.Submit', title: clip(title, 40), data: d },
  };
}

const voteAction = (pollId: string, questionId: string, title: string, optionId?: string) =>
  execute('vote', title, {
    poll_id: pollId,
    question_id: questionId,
    ...(optionId ? { option_id: optionId } : {}),
  });

/** A menu's label carries its place, so same-named dishes of two places stay apart. */
function labelOf(poll: Poll, q: PollQuestion, o: PollQuestion['options'][number]): string {
  if (q.kind !== 'menu' || !o.place_id) return o.label;
  const place = poll.questions.find((x) => x.kind === 'place')?.options.find((p) => p.id === o.place_id);
  return place ? `${place.label} · ${o.label}` : o.label;
}

function tallyRows(
  poll: Poll,
  q: PollQuestion,
  s: Snapshot,
  mine: string[],
  d: Detail,
  board: string,
): Card[] {
  const t = s.questions.find((x) => x.question_id === q.id);
  const counts = new Map(t?.options.map((o) => [o.option_id, o.vote_count]));
  const max = Math.max(0, ...counts.values());
  const shown =
    q.options.length > d.rows
      ? [...q.options].sort((a, b) => (counts.get(b.id) ?? 0) - (counts.get(a.id) ?? 0)).slice(0, d.rows)
      : q.options;
  const items: Card[] = [];
  if (poll.questions.length > 1 || poll.template === 'lunch')
    items.push({ type: 'TextBlock', text: q.prompt, weight: 'Bolder', spacing: 'Medium', wrap: true });
  for (const o of shown) {
    const n = counts.get(o.id) ?? 0;
    const label = `${mine.includes(o.id) ? '✅ ' : ''}${clip(labelOf(poll, q, o), 60)}${t?.leader === o.id ? ' 👑' : ''}`;
    items.push({
      type: 'ColumnSet',
      spacing: 'Small',
      columns: [
        {
          type: 'Column',
          width: 'stretch',
          items: [
            { type: 'TextBlock', text: label, wrap: true, weight: t?.leader === o.id ? 'Bolder' : 'Default' },
          ],
        },
        ...(s.results_hidden
          ? []
          : [
              {
                type: 'Column',
                width: 'auto',
                items: [{ type: 'TextBlock', text: `${bar(n, max)} ${n}`, fontType: 'Monospace' }],
              },
            ]),
      ],
    });
  }
  if (shown.length < q.options.length)
    items.push({
      type: 'TextBlock',
      text: `+${q.options.length - shown.length} more · [see all on the board](${board})`,
      isSubtle: true,
      spacing: 'Small',
      wrap: true,
    });
  return items;
}

/** How a question is voted on: a button per option when few, else a choice set (cut to the detail level). */
function votingItems(poll: Poll, q: PollQuestion, s: Snapshot, d: Detail, board: string): Card[] {
  const buttons =
    (q.kind === 'place' && q.options.length <= PLACE_BUTTONS_UP_TO) ||
    (q.kind === 'choice' && poll.questions.length === 1 && q.options.length <= BUTTONS_UP_TO);
  if (buttons)
    return [
      {
        type: 'ActionSet',
        actions: q.options.map((o) => voteAction(poll.id, q.id, labelOf(poll, q, o), o.id)),
      },
    ];
  if (d.choices === 0)
    return [
      {
        type: 'TextBlock',
        text: `${q.options.length} choices: [vote on the web](${board})`,
        wrap: true,
        spacing: 'Small',
      },
    ];
  const t = s.questions.find((x) => x.question_id === q.id);
  const counts = new Map(t?.options.map((o) => [o.option_id, o.vote_count]));
  // Menus stay grouped by place (the poll's order); cut to the most voted when there are too many.
  let options = q.options;
  if (options.length > d.choices) {
    const keep = new Set(
      [...options]
        .sort((a, b) => (counts.get(b.id) ?? 0) - (counts.get(a.id) ?? 0))
        .slice(0, d.choices)
        .map((o) => o.id),
    );
    options = options.filter((o) => keep.has(o.id));
  }
  const items: Card[] = [
    {
      type: 'Input.ChoiceSet',
      id: `choice_${q.id}`,
      style: 'compact',
      placeholder: q.kind === 'menu' ? 'Choose a dish…' : 'Choose…',
      choices: options.map((o) => ({ title: clip(labelOf(poll, q, o), 70), value: o.id })),
    },
  ];
  if (options.length < q.options.length)
    items.push({
      type: 'TextBlock',
      text: `+${q.options.length - options.length} more · [all choices on the board](${board})`,
      isSubtle: true,
      spacing: 'None',
      wrap: true,
    });
  items.push({
    type: 'ActionSet',
    actions: [voteAction(poll.id, q.id, q.kind === 'menu' ? 'Vote for this dish' : 'Vote')],
  });
  return items;
}

function statusLine(poll: Poll, s: Snapshot, now: Date): string {
  const open = s.status === 'open';
  let closes = '';
  const closesAt = closesAtOf(poll, s);
  if (open && closesAt) {
    // Teams writes {{DATE()}} and {{TIME()}} in each viewer's own time zone.
    const iso = new Date(closesAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const far = Date.parse(closesAt) - now.getTime() > 20 * 3_600_000;
    closes = ` · closes ${far ? `{{DATE(${iso}, SHORT)}} ` : ''}{{TIME(${iso})}}`;
  }
  return `${open ? '🟢 Open' : '🏁 Closed'}${votersLine(poll, s)}${closes}${poll.settings.anonymous ? ' · anonymous' : ''}${s.results_hidden ? ' · results hidden until close' : ''}`;
}

function winnerLines(poll: Poll, s: Snapshot): Card[] {
  const all = winners(s);
  if (all.length === 0)
    return [
      // A missed quorum is "no decision", not "no votes": the lunch rules' sentence says which and why.
      {
        type: 'TextBlock',
        text: s.decision?.text ?? 'No votes.',
        weight: 'Bolder',
        size: 'Medium',
        wrap: true,
      },
    ];
  return poll.questions.flatMap((q) => {
    const top = all.filter((w) => w.question_id === q.id);
    if (top.length === 0) return [];
    const names = top.map((w) => {
      const o = q.options.find((x) => x.id === w.option_id);
      return o ? labelOf(poll, q, o) : w.label;
    });
    return [
      {
        type: 'TextBlock',
        text: `🏆 ${clip(names.join(' / '), 200)} (${top[0]?.vote_count ?? 0})`,
        weight: 'Bolder',
        size: 'Medium',
        wrap: true,
      },
    ];
  });
}

function render(poll: Poll, s: Snapshot, o: CardOptions, d: Detail): Card {
  const board = `${o.publicUrl}/board/${poll.id}`;
  const personal = o.mine !== undefined;
  const mine = o.mine ?? {};
  const open = s.status === 'open';
  const body: Card[] = [];
  if (o.notice) body.push({ type: 'TextBlock', text: o.notice, color: 'Attention', wrap: true });
  body.push(
    { type: 'TextBlock', text: clip(poll.title, 120), size: 'Large', weight: 'Bolder', wrap: true },
    {
      type: 'TextBlock',
      text: statusLine(poll, s, o.now ?? new Date()),
      isSubtle: true,
      spacing: 'None',
      wrap: true,
    },
  );
  for (const q of poll.questions) {
    body.push(...tallyRows(poll, q, s, mine[q.id] ?? [], d, board));
    if (open) body.push(...votingItems(poll, q, s, d, board));
  }
  if (!open) body.push(...winnerLines(poll, s));
  const actions: Card[] = [];
  if (open) {
    // The shared card offers both to everyone (the bot refuses a close from anyone else); a personal view only
    // what the viewer can do.
    const voted = Object.values(mine).some((ids) => ids.length > 0);
    if (!personal || voted) actions.push(execute('retract', 'Take back my vote', { poll_id: poll.id }));
    if (!personal || o.mayClose)
      actions.push(execute('close', 'Close poll', { poll_id: poll.id }, 'destructive'));
  }
  actions.push({ type: 'Action.OpenUrl', title: 'Open board', url: board });
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    // Universal Actions: Teams asks for a fresh card (the viewer's own vote, their controls) when someone opens the
    // chat, by itself only for the users named here once the conversation has more than 60 members.
    refresh: {
      action: { type: 'Action.Execute', verb: 'refresh', data: { verb: 'refresh', poll_id: poll.id } },
      ...(o.refreshUserIds ? { userIds: o.refreshUserIds.slice(0, REFRESH_USERS_MAX) } : {}),
    },
    body,
    actions,
  };
}

/** The card at the most detail that fits Teams' size limit. */
export function pollCard(poll: Poll, s: Snapshot, o: CardOptions): Card {
  const limit = o.maxBytes ?? MAX_CARD_BYTES - ENVELOPE_BYTES;
  let card: Card = {};
  for (const d of DETAILS) {
    card = render(poll, s, o, d);
    if (cardBytes(card) <= limit) return card;
  }
  return card; // the least detail; a title and labels of this size cannot exceed the limit (labels are ≤ 120)
}

export const cardAttachment = (card: Card) => ({ contentType: CARD_CONTENT_TYPE, content: card });
