// Parses the admin's directory CSV (`platform,tenant,user_id,emp_no`, header optional) into validated rows.
import { z } from 'zod';
import { fail, ok, type Result } from '../domain/result.ts';
import type { DirectoryEntry } from '../ports/store.ts';

const rowSchema = z.object({
  platform: z.enum(['web', 'slack', 'teams']),
  tenant: z.string().max(128),
  user: z.string().min(1).max(128),
  emp_no: z.string().regex(/^[0-9]{1,20}$/),
});

export const MAX_DIRECTORY_ROWS = 50_000;

export function parseDirectoryCsv(text: string): Result<DirectoryEntry[], 'invalid_csv'> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > MAX_DIRECTORY_ROWS + 1)
    return fail('invalid_csv', `At most ${MAX_DIRECTORY_ROWS} rows per import.`);
  const entries: DirectoryEntry[] = [];
  for (const [i, line] of lines.entries()) {
    const cells = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (i === 0 && cells[0]?.toLowerCase() === 'platform') continue;
    const [platform, tenant, user, emp_no, ...rest] = cells;
    const row = rowSchema.safeParse({ platform, tenant: tenant ?? '', user, emp_no });
    if (!row.success || rest.length > 0) {
      return fail(
        'invalid_csv',
        `Line ${i + 1}: expected platform,tenant,user_id,emp_no with platform web|slack|teams and emp_no digits.`,
      );
    }
    entries.push(row.data);
  }
  if (entries.length === 0) return fail('invalid_csv', 'The CSV has no rows.');
  return ok(entries);
}
