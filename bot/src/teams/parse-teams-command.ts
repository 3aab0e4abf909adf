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
  | { kind: 'places' }
  | { kind: 'schedule'; set?: { open_at: string; close_at: string; weekdays: number[]; timezone?: string } }
  | { kind: 'help' };

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** `mon-fri`, `mon,wed,fri`, `sat` → ISO weekdays (1 = Monday); null when a part is no day name. */
function weekdaysOf(spec: string): number[] | null {
  const days = new Set<number>();
  for (const part of spec.toLowerCase().split(',')) {
    const [from, to] = part.split('-').map((d) => DAY_NAMES.indexOf(d.slice(0, 3)) + 1);
    if (!from || (part.includes('-') && !to)) return null;
    const end = to ?? from;
    for (let d = from; ; d = (d % 7) + 1) {
      days.add(d);
      if (d === end) break;
    }
  }
  return [...days].sort();
}

const HHMM = (t: string) => (/^\d{1,2}:\d{2}$/.test(t) ? t.padStart(5, '0') : null);

/** `lunch schedule` (show) or `lunch schedule 11:30-12:30 mon-fri Asia/Seoul` (set; days and zone optional). */
function scheduleCommand(args: string): Result<TeamsCommand, 'invalid_command'> {
  if (!args) return ok({ kind: 'schedule' });
  const usage = 'Write: lunch schedule 11:30-12:30 mon-fri Asia/Seoul (days and time zone optional).';
  const [times, ...rest] = args.split(' ');
  const [open, close] = (times ?? '').split('-').map(HHMM);
  if (!open || !close) return fail('invalid_command', usage);
  let weekdays = [1, 2, 3, 4, 5];
  let timezone: string | undefined;
  for (const part of rest) {
    if (part.includes('/') || /^utc$/i.test(part)) timezone = part;
    else {
      const days = weekdaysOf(part);
      if (!days)
        return fail('invalid_command', `"${part}" is neither days (mon-fri) nor a time zone. ${usage}`);
      weekdays = days;
    }
  }
  return ok({
    kind: 'schedule',
    set: { open_at: open, close_at: close, weekdays, ...(timezone ? { timezone } : {}) },
  });
}

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
    if (/^places$/i.test(rest)) return ok({ kind: 'places' });
    const schedule = /^schedule\b\s*(.*)$/i.exec(rest);
    if (schedule) return scheduleCommand(schedule[1]?.trim() ?? '');
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
