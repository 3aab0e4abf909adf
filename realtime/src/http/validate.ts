import type { z } from 'zod';
import { HttpError } from './errors.ts';

/** Parses an external input with its protocol schema; the first problem becomes a 400 naming the field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.infer<S> {
  if (input === undefined)
    throw new HttpError(400, 'invalid_body', `Expected a JSON ${what} (Content-Type: application/json).`);
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : what;
  // A rule may name its own code (labels: invalid_characters); the message always names the field.
  const code = (issue as { params?: { code?: unknown } } | undefined)?.params?.code;
  throw new HttpError(
    400,
    typeof code === 'string' ? code : 'invalid_body',
    `${where}: ${issue?.message ?? 'is not valid'}`,
  );
}
