// Teams messages that create polls: "lunch", or "poll Question; A; B", either with "closes 12:30" (the sender's wall
// clock). Mentions (<at>livevote</at>) are ignored.
import { fail, ok, parseClockTime, type Result } from '@livevote/core';

export interface ClockTime {
  hour: number;
  minute: number;
}

export type TeamsCommand =
  | { kind: 'lunch'; closes?: ClockTime }
  | { kind: 'poll'; question: string; options: string[]; closes?: ClockTime }
  | { kind: 'help' };

const CLOSES = /^closes?\s+(?:at\s+)?(.+)$/i;

/** `closes 12:30` → the time; another text → undefined; a `closes …` that is no time → an error. */
function closesPart(part: string): Result<ClockTime | undefined, 'invalid_command'> {
  const m = CLOSES.exec(part.trim());
  if (!m?.[1]) return ok(undefined);
  const t = parseClockTime(m[1]);
  return t
    ? ok(t)
    : fail('invalid_command', `"${m[1].trim()}" is not a time: write closes 12:30 (or 1:15pm).`);
}

export function parseTeamsCommand(text: string | undefined): Result<TeamsCommand, 'invalid_command'> {
  const t = (text ?? '')
    .replace(/<at>[^<]*<\/at>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const lunch = /^lunch(?:\s*;?\s*(.*))?$/i.exec(t);
  if (lunch) {
    const rest = lunch[1]?.trim() ?? '';
    if (!rest) return ok({ kind: 'lunch' });
    const closes = closesPart(rest);
    if (!closes.ok) return closes;
    if (closes.value) return ok({ kind: 'lunch', closes: closes.value });
    return ok({ kind: 'help' });
  }
  const m = /^poll\s+(.+)$/i.exec(t);
  if (!m?.[1]) return ok({ kind: 'help' });
  const parts = m[1]
    .split(';')
    .map((x) => x.trim())
    .filter(Boolean);
  let closes: ClockTime | undefined;
  const last = parts.at(-1);
  if (last && CLOSES.test(last)) {
    const c = closesPart(last);
    if (!c.ok) return c;
    closes = c.value;
    parts.pop();
  }
  if (parts.length < 3)
    return fail('invalid_command', 'Write: poll Question; Option A; Option B (at least two options).');
  const [question, ...options] = parts as [string, ...string[]];
  if (options.length > 100) return fail('invalid_command', 'At most 100 options.');
  return ok({
    kind: 'poll',
    question: question.slice(0, 120),
    options: options.map((x) => x.slice(0, 120)),
    ...(closes ? { closes } : {}),
  });
}
