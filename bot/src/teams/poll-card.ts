// The poll as an Adaptive Card (schema 1.5): counts and bars, the clicker's own vote when known, Action.Execute
// (verb "vote") with an Action.Submit fallback for clients without Universal Actions. Under 28 KB with 100 options.
import { votersLine } from '@livevote/core';
import type { Poll, PollQuestion, Snapshot } from '@livevote/core/protocol';

// biome-ignore lint/suspicious/noExplicitAny: Adaptive Cards are a wide JSON schema; Teams validates them
export type Card = Record<string, any>;

export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const MAX_CARD_BYTES = 28 * 1024;
/** Up to this many options, one button each; past it, a dropdown and one Vote button. */
export const BUTTONS_UP_TO = 5;

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const bar = (n: number, max: number) => '█'.repeat(max === 0 ? 0 : Math.round((n / max) * 10)) || '·';

function vote(pollId: string, questionId: string, title: string, optionId?: string): Card {
  const data = {
    verb: 'vote',
    poll_id: pollId,
    question_id: questionId,
    ...(optionId ? { option_id: optionId } : {}),
  };
  return {
    type: 'Action.Execute',
    verb: 'vote',
    title: clip(title, 40),
    data,
    fallback: { type: 'Action.Submit', title: clip(title, 40), data },
  };
}

function questionItems(poll: Poll, q: PollQuestion, s: Snapshot, mine: string[]): Card[] {
  const t = s.questions.find((x) => x.question_id === q.id);
  const counts = new Map(t?.options.map((o) => [o.option_id, o.vote_count]));
  const max = Math.max(0, ...counts.values());
  const ranked =
    q.options.length > 12
      ? [...q.options].sort((a, b) => (counts.get(b.id) ?? 0) - (counts.get(a.id) ?? 0)).slice(0, 12)
      : q.options;
  const items: Card[] = [];
  if (poll.questions.length > 1 || poll.template === 'lunch')
    items.push({ type: 'TextBlock', text: q.prompt, weight: 'Bolder', spacing: 'Medium', wrap: true });
  for (const o of ranked) {
    const n = counts.get(o.id) ?? 0;
    items.push({
      type: 'ColumnSet',
      spacing: 'Small',
      columns: [
        {
          type: 'Column',
          width: 'stretch',
          items: [
            {
              type: 'TextBlock',
              text: `${mine.includes(o.id) ? '✅ ' : ''}${clip(o.label, 60)}${t?.leader === o.id ? ' 👑' : ''}`,
              wrap: true,
              weight: t?.leader === o.id ? 'Bolder' : 'Default',
            },
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
  if (ranked.length < q.options.length)
    items.push({
      type: 'TextBlock',
      text: `+ ${q.options.length - ranked.length} more`,
      isSubtle: true,
      spacing: 'Small',
    });
  return items;
}

export function pollCard(
  poll: Poll,
  s: Snapshot,
  o: { publicUrl: string; mine?: Record<string, string[]> },
): Card {
  const mine = o.mine ?? {};
  const open = s.status === 'open';
  const body: Card[] = [
    { type: 'TextBlock', text: clip(poll.title, 120), size: 'Large', weight: 'Bolder', wrap: true },
    {
      type: 'TextBlock',
      text: `${open ? '🟢 Open' : '🏁 Closed'}${votersLine(poll, s)}${poll.settings.anonymous ? ' · anonymous' : ''}${s.results_hidden ? ' · results hidden until close' : ''}`,
      isSubtle: true,
      spacing: 'None',
    },
  ];
  const actions: Card[] = [];
  for (const q of poll.questions) {
    body.push(...questionItems(poll, q, s, mine[q.id] ?? []));
    if (!open) continue;
    if (q.options.length <= BUTTONS_UP_TO && poll.questions.length === 1) {
      for (const opt of q.options) actions.push(vote(poll.id, q.id, opt.label, opt.id));
    } else {
      body.push({
        type: 'Input.ChoiceSet',
        id: `choice_${q.id}`,
        style: 'compact',
        placeholder: 'Choose…',
        choices: q.options.slice(0, 100).map((x) => ({ title: clip(x.label, 60), value: x.id })),
      });
      body.push({
        type: 'ActionSet',
        actions: [vote(poll.id, q.id, q.kind === 'menu' ? 'Vote for this dish' : 'Vote')],
      });
    }
  }
  if (!open) {
    const first = s.questions[0];
    const top = Math.max(0, ...(first?.options.map((x) => x.vote_count) ?? [0]));
    const names = first?.options.filter((x) => top > 0 && x.vote_count === top).map((x) => x.label) ?? [];
    body.push({
      type: 'TextBlock',
      text: names.length ? `🏆 ${names.join(' / ')} (${top})` : 'No votes.',
      weight: 'Bolder',
      size: 'Medium',
    });
  }
  actions.push({ type: 'Action.OpenUrl', title: 'Open board', url: `${o.publicUrl}/board/${poll.id}` });
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    // Universal Actions: Teams asks for a fresh card (with the viewer's own vote) when someone opens the chat.
    refresh: {
      action: { type: 'Action.Execute', verb: 'refresh', data: { verb: 'refresh', poll_id: poll.id } },
    },
    body,
    actions,
  };
}

export const cardAttachment = (card: Card) => ({ contentType: CARD_CONTENT_TYPE, content: card });
