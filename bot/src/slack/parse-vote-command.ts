// `/vote "Question" "A" "B" …` → the question and its options. Smart quotes count as quotes (Slack clients and
// phones turn " into “ ”).
import { fail, ok, type Result } from '@livevote/core';

export function parseVoteCommand(
  text: string,
): Result<{ question: string; options: string[] }, 'invalid_command'> {
  const normalized = text.replace(/[“”„‟″]/g, '"');
  const parts = [...normalized.matchAll(/"([^"]*)"/g)].map((m) => (m[1] ?? '').trim()).filter(Boolean);
  const outside = normalized.replace(/"[^"]*"/g, '').trim();
  if (outside !== '' || parts.length < 3) {
    return fail(
      'invalid_command',
      'Usage: /vote "Question" "Option A" "Option B" … (at least two options, each in quotes).',
    );
  }
  const [question, ...options] = parts as [string, ...string[]];
  if (options.length > 100) return fail('invalid_command', 'At most 100 options.');
  return ok({ question, options });
}
