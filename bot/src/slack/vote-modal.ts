// The /vote form (for `/vote` alone): the question, one option per line, how many each person may choose, a close
// time and the settings the flags of `/vote "Q" "A" "B" --…` set. And the small form behind "Add an option".
import type { Block } from './render-poll.ts';
import type { ViewState } from './view-state.ts';

export const VOTE_MODAL = 'vote-modal';
export const ADD_OPTION_MODAL = 'add-option-modal';

/** What a modal must remember of the command that opened it: where to post, and how to answer the person. */
export interface ModalContext {
  channel: string;
  /** The command's response_url: answers the person even where the bot cannot post. */
  responseUrl?: string;
}

const input = (block_id: string, label: string, element: Block, optional = false): Block => ({
  type: 'input',
  block_id,
  optional,
  label: { type: 'plain_text', text: label },
  element: { action_id: 'v', ...element },
});

export function voteModal(ctx: ModalContext): Block {
  return {
    type: 'modal',
    callback_id: VOTE_MODAL,
    private_metadata: JSON.stringify(ctx),
    title: { type: 'plain_text', text: 'Quick poll' },
    submit: { type: 'plain_text', text: 'Post poll' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      input('question', 'Question', { type: 'plain_text_input', max_length: 120 }),
      input('options', 'Options, one per line', {
        type: 'plain_text_input',
        multiline: true,
        placeholder: { type: 'plain_text', text: 'Pizza\nSushi\nBibimbap' },
      }),
      input(
        'multi',
        'Each person may choose',
        {
          type: 'static_select',
          initial_option: { text: { type: 'plain_text', text: '1 option' }, value: '1' },
          options: [1, 2, 3, 4, 5].map((n) => ({
            text: { type: 'plain_text', text: `${n} option${n === 1 ? '' : 's'}` },
            value: String(n),
          })),
        },
        true,
      ),
      input('closes', 'Closes at', { type: 'datetimepicker' }, true),
      input(
        'settings',
        'Settings',
        {
          type: 'checkboxes',
          options: [
            { text: { type: 'plain_text', text: 'Anonymous (nobody sees who voted)' }, value: 'anonymous' },
            { text: { type: 'plain_text', text: 'Hide results until the poll closes' }, value: 'hidden' },
            { text: { type: 'plain_text', text: 'Anyone may add options' }, value: 'add_options' },
          ],
        },
        true,
      ),
    ],
  };
}

export type VoteModalInput = {
  question: string;
  options: string[];
  multi?: number;
  closesAt: string | null;
  anonymous: boolean;
  hidden: boolean;
  addOptions: boolean;
};

export function readVoteModal(
  state: ViewState,
  now: Date,
): { ok: true; value: VoteModalInput } | { ok: false; errors: Record<string, string> } {
  const v = state.values;
  const question = v.question?.v?.value?.trim() ?? '';
  const options = [
    ...new Set(
      (v.options?.v?.value ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  ];
  const multi = Number(v.multi?.v?.selected_option?.value ?? '1');
  const ts = v.closes?.v?.selected_date_time ?? null;
  const errors: Record<string, string> = {};
  if (!question) errors.question = 'Ask a question.';
  if (options.length < 2) errors.options = 'Give at least two options, one per line.';
  else if (options.length > 100) errors.options = 'At most 100 options.';
  else if (multi > options.length) errors.multi = `There are only ${options.length} options.`;
  if (ts !== null && ts * 1000 <= now.getTime()) errors.closes = 'The close time must be in the future.';
  if (Object.keys(errors).length) return { ok: false, errors };
  const settings = new Set((v.settings?.v?.selected_options ?? []).map((o) => o.value));
  return {
    ok: true,
    value: {
      question,
      options,
      ...(multi > 1 ? { multi } : {}),
      closesAt: ts === null ? null : new Date(ts * 1000).toISOString(),
      anonymous: settings.has('anonymous'),
      hidden: settings.has('hidden'),
      addOptions: settings.has('add_options'),
    },
  };
}

export function addOptionModal(pollId: string, questionId: string, title: string): Block {
  return {
    type: 'modal',
    callback_id: ADD_OPTION_MODAL,
    private_metadata: JSON.stringify({ pollId, questionId }),
    title: { type: 'plain_text', text: 'Add an option' },
    submit: { type: 'plain_text', text: 'Add' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'plain_text', text: title.slice(0, 150) } },
      input('label', 'Option', { type: 'plain_text_input', max_length: 120 }),
    ],
  };
}
