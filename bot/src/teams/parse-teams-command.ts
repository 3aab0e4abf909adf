// Teams messages that create polls: "lunch", or "poll Question; A; B". Mentions (<at>livevote</at>) are ignored.
import { fail, ok, type Result } from '@livevote/core';

export type TeamsCommand =
  | { kind: 'lunch' }
  | { kind: 'poll'; question: string; options: string[] }
  | { kind: 'help' };

export function parseTeamsCommand(text: string | undefined): Result<TeamsCommand, 'invalid_command'> {
  const t = (text ?? '')
    .replace(/<at>[^<]*<\/at>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (/^lunch$/i.test(t)) return ok({ kind: 'lunch' });
  const m = /^poll\s+(.+)$/i.exec(t);
  if (!m?.[1]) return ok({ kind: 'help' });
  const parts = m[1]
    .split(';')
    .map((x) => x.trim())
    .filter(Boolean);
  if (parts.length < 3)
    return fail('invalid_command', 'Write: poll Question; Option A; Option B (at least two options).');
  const [question, ...options] = parts as [string, ...string[]];
  if (options.length > 100) return fail('invalid_command', 'At most 100 options.');
  return ok({ kind: 'poll', question: question.slice(0, 120), options: options.map((x) => x.slice(0, 120)) });
}
