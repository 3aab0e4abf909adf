// The poll message in Block Kit: counts and bars, voters unless anonymous, a button per option while that fits,
// a select menu past that, and links to the board and the browser. Always within Slack's 50 blocks and 3,000
// characters per text.
import { votersLine } from '@livevote/core';
import {
  closesAtOf,
  type Poll,
  type PollQuestion,
  type QuestionTally,
  type Snapshot,
  winnersOf,
} from '@livevote/core/protocol';
import { escapeMrkdwn as esc } from './mrkdwn.ts';

// biome-ignore lint/suspicious/noExplicitAny: Block Kit is a wide JSON shape; Slack validates it
export type Block = Record<string, any>;

export const MAX_BLOCKS = 50;
export const MAX_TEXT = 3_000;
/** Up to this many options in a question, each gets its own line and button; more go into a select menu. */
export const BUTTONS_UP_TO = 10;
const MAX_SELECT_OPTIONS = 100;

export interface RenderOptions {
  publicUrl: string;
  voters: Record<string, string[]>;
}

export const voteValue = (pollId: string, optionId: string) => `${pollId}|${optionId}`;
export function parseVoteValue(value: string): { pollId: string; optionId: string } | null {
  const m = /^([A-Za-z0-9_-]{1,64})\|([A-Za-z0-9_-]{1,64})$/.exec(value);
  return m?.[1] && m[2] ? { pollId: m[1], optionId: m[2] } : null;
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

function bar(n: number, max: number): string {
  const filled = max === 0 ? 0 : Math.round((n / max) * 10);
  return `${'█'.repeat(filled)}${'░'.repeat(10 - filled)}`;
}

/** `slack:T:U` → a mention; `emp:123` → #123; other platforms are counted, not named. */
function voterList(keys: string[] | undefined): string {
  if (!keys?.length) return '';
  const shown = keys.slice(0, 8).map((k) => {
    const [platform, , user] = k.split(':');
    if (platform === 'slack' && user) return `<@${user}>`;
    if (platform === 'emp') return `#${k.slice(4)}`;
    return platform ?? '?';
  });
  return `${shown.join(' ')}${keys.length > 8 ? ` +${keys.length - 8}` : ''}`;
}

function optionLine(
  label: string,
  count: number,
  max: number,
  total: number,
  hidden: boolean,
  leader: boolean,
): string {
  const name = `${leader ? ':crown: ' : ''}*${esc(clip(label, 80))}*`;
  if (hidden) return name;
  const pct = total > 0 ? Math.round((count / total) * 100) : 0;
  return `${name}\n\`${bar(count, max)}\` ${count} (${pct}%)`;
}

function questionBlocks(
  poll: Poll,
  q: PollQuestion,
  t: QuestionTally | undefined,
  s: Snapshot,
  o: RenderOptions,
): Block[] {
  const counts = new Map(t?.options.map((x) => [x.option_id, x.vote_count]));
  const max = Math.max(0, ...counts.values());
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const open = s.status === 'open';
  const blocks: Block[] = [];
  if (poll.questions.length > 1 || poll.template === 'lunch') {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${esc(clip(q.prompt, 200))}*` } });
  }
  if (q.options.length <= BUTTONS_UP_TO && q.kind !== 'menu') {
    for (const opt of q.options) {
      const n = counts.get(opt.id) ?? 0;
      let text = optionLine(opt.label, n, max, total, s.results_hidden, t?.leader === opt.id);
      const who = s.results_hidden ? '' : voterList(o.voters[opt.id]);
      if (who) text += `\n${who}`;
      blocks.push({
        type: 'section',
        block_id: `opt-${opt.id}`,
        text: { type: 'mrkdwn', text: clip(text, MAX_TEXT) },
        ...(open
          ? {
              accessory: {
                type: 'button',
                action_id: `vote-${opt.id}`,
                text: { type: 'plain_text', text: 'Vote' },
                value: voteValue(poll.id, opt.id),
              },
            }
          : {}),
      });
    }
    return blocks;
  }
  // Many options (or menus, grouped by place): every option with its count, most votes first, in as many sections
  // as the text takes (3,000 characters each), and a select menu to vote.
  const ranked = [...q.options].sort((a, b) => (counts.get(b.id) ?? 0) - (counts.get(a.id) ?? 0));
  const sections: string[] = [''];
  for (const opt of ranked) {
    const n = counts.get(opt.id) ?? 0;
    const line = s.results_hidden
      ? `• ${esc(clip(opt.label, 80))}\n`
      : `• ${esc(clip(opt.label, 80))} — ${n}\n`;
    if ((sections.at(-1) as string).length + line.length > MAX_TEXT) sections.push('');
    sections[sections.length - 1] += line;
  }
  for (const text of sections)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: text || '_No options_' } });
  if (open) {
    const option = (id: string, label: string) => ({
      text: { type: 'plain_text', text: clip(label, 75) },
      value: voteValue(poll.id, id),
    });
    const places = poll.questions.find((x) => x.kind === 'place');
    const element: Block = {
      type: 'static_select',
      action_id: `vote-select-${q.id}`,
      placeholder: { type: 'plain_text', text: 'Choose…' },
    };
    if (q.kind === 'menu' && places) {
      element.option_groups = places.options
        .map((p) => ({
          label: { type: 'plain_text', text: clip(p.label, 75) },
          options: q.options.filter((m) => m.place_id === p.id).map((m) => option(m.id, m.label)),
        }))
        .filter((g) => g.options.length > 0)
        .slice(0, MAX_SELECT_OPTIONS);
    } else element.options = q.options.slice(0, MAX_SELECT_OPTIONS).map((x) => option(x.id, x.label));
    blocks.push({ type: 'actions', block_id: `select-${q.id}`, elements: [element] });
  }
  return blocks;
}

export function renderPoll(poll: Poll, s: Snapshot, o: RenderOptions): { text: string; blocks: Block[] } {
  const status = s.status === 'open' ? ':large_green_circle: Open' : ':checkered_flag: Closed';
  const closesAt = closesAtOf(poll, s);
  const closes =
    s.status === 'open' && closesAt
      ? ` · closes <!date^${Math.floor(Date.parse(closesAt) / 1000)}^{time}|${closesAt}>`
      : '';
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(poll.title, 150) } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `${status}${votersLine(poll, s)}${closes}${poll.settings.anonymous ? ' · anonymous' : ''}${s.results_hidden ? ' · results hidden until close' : ''}`,
        },
      ],
    },
  ];
  for (const q of poll.questions) {
    blocks.push(
      ...questionBlocks(
        poll,
        q,
        s.questions.find((t) => t.question_id === q.id),
        s,
        o,
      ),
    );
  }
  if (s.status === 'closed') {
    // The lunch rules' decision where they decided (a broken tie: one place; a missed quorum: nobody).
    const top = winnersOf(s).filter((w) => w.question_id === s.questions[0]?.question_id);
    const text = top.length
      ? `:trophy: *${top.map((w) => esc(w.label)).join(' / ')}* (${top[0]?.vote_count ?? 0})`
      : s.decision
        ? esc(s.decision.text)
        : 'No votes.';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  }
  const links: Block[] = [
    {
      type: 'button',
      action_id: 'open-board',
      text: { type: 'plain_text', text: 'Open board' },
      url: `${o.publicUrl}/board/${poll.id}`,
    },
  ];
  if (!poll.settings.anonymous && !s.results_hidden)
    links.push({
      type: 'button',
      action_id: 'who-voted',
      text: { type: 'plain_text', text: 'Who voted' },
      value: poll.id,
    });
  if (s.status === 'open' && poll.settings.allow_add_options)
    links.push({
      type: 'button',
      action_id: 'add-option',
      text: { type: 'plain_text', text: 'Add an option' },
      value: poll.id,
    });
  if (s.status === 'open') {
    links.push(
      {
        type: 'button',
        action_id: 'vote-in-browser',
        text: { type: 'plain_text', text: 'Vote in browser' },
        value: poll.id,
      },
      {
        type: 'button',
        action_id: 'retract',
        text: { type: 'plain_text', text: 'Take back my vote' },
        value: poll.id,
      },
      {
        type: 'button',
        action_id: 'close-poll',
        style: 'danger',
        text: { type: 'plain_text', text: 'Close poll' },
        value: poll.id,
        confirm: {
          title: { type: 'plain_text', text: 'Close this poll?' },
          text: { type: 'plain_text', text: 'Nobody can vote after this. Only the creator can close it.' },
          confirm: { type: 'plain_text', text: 'Close' },
          deny: { type: 'plain_text', text: 'Keep open' },
        },
      },
    );
  }
  blocks.push({ type: 'actions', block_id: 'links', elements: links });
  // Never exceed Slack's limit: keep the head, the end (links) and as many option lines as fit.
  const fitted =
    blocks.length <= MAX_BLOCKS
      ? blocks
      : [
          ...blocks.slice(0, MAX_BLOCKS - 2),
          { type: 'context', elements: [{ type: 'mrkdwn', text: '…more on the board' }] },
          blocks.at(-1) as Block,
        ];
  // The notification text is mrkdwn too: a title like "<!here>" must not notify anyone.
  const lead = s.leader && !s.results_hidden ? ` — leading: ${s.leader.label} (${s.leader.vote_count})` : '';
  return { text: clip(esc(`${poll.title}${lead}`), MAX_TEXT), blocks: fitted };
}
