// `/vote "Question" "A" "B" … [--anonymous] [--hidden] [--multi N] [--closes HH:MM] [--add-options]` → the poll
// to make. Smart quotes count as quotes (Slack clients and phones turn " into “ ”). Slack escapes &, < and > in
// command text: they are decoded here, once, so labels are stored as typed. `/vote` alone opens the modal.
import { fail, ok, type Result } from '@livevote/core';
import { decodeSlackText } from './mrkdwn.ts';

export interface VoteCommand {
  question: string;
  options: string[];
  anonymous?: boolean;
  hidden?: boolean;
  /** How many options one person may choose (2 or more; absent: one). */
  multi?: number;
  /** A close time, `HH:MM` in the person's time zone (the next time their clock shows it). */
  closes?: string;
  addOptions?: boolean;
}

export const VOTE_USAGE =
  'Usage: /vote "Question" "Option A" "Option B" … [--anonymous] [--hidden] [--multi 2] [--closes 12:30] [--add-options] (or /vote alone for a form).';

export function parseVoteCommand(text: string): Result<VoteCommand | { modal: true }, 'invalid_command'> {
  const normalized = decodeSlackText(text).replace(/[“”„‟″]/g, '"');
  if (normalized.trim() === '') return ok({ modal: true });
  const parts = [...normalized.matchAll(/"([^"]*)"/g)].map((m) => (m[1] ?? '').trim()).filter(Boolean);
  const flags = normalized
    .replace(/"[^"]*"/g, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const cmd: Omit<VoteCommand, 'question' | 'options'> = {};
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i];
    if (flag === '--anonymous') cmd.anonymous = true;
    else if (flag === '--hidden') cmd.hidden = true;
    else if (flag === '--add-options') cmd.addOptions = true;
    else if (flag === '--multi') {
      const n = Number(flags[++i]);
      if (!Number.isInteger(n) || n < 2 || n > 100)
        return fail(
          'invalid_command',
          '--multi takes how many options one person may choose, 2 or more: --multi 2',
        );
      cmd.multi = n;
    } else if (flag === '--closes') {
      const t = flags[++i] ?? '';
      const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(t);
      if (!m) return fail('invalid_command', '--closes takes a time of day, HH:MM: --closes 12:30');
      cmd.closes = `${m[1]?.padStart(2, '0')}:${m[2]}`;
    } else return fail('invalid_command', `Unknown "${flag}". ${VOTE_USAGE}`);
  }
  if (parts.length < 3)
    return fail('invalid_command', `At least a question and two options, each in quotes. ${VOTE_USAGE}`);
  const [question, ...options] = parts as [string, ...string[]];
  if (options.length > 100) return fail('invalid_command', 'At most 100 options.');
  if (cmd.multi !== undefined && cmd.multi > options.length)
    return fail('invalid_command', `--multi ${cmd.multi} is more than the ${options.length} options.`);
  return ok({ question, options, ...cmd });
}
