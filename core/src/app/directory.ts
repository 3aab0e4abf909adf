// The employee directory of one workspace: an import from the admin's CSV, and its listing. A Slack or Teams
// workspace takes only its own platform's identities (an empty tenant is its own team or tenant); `web`, the
// single-company install's, takes any.
import { fail, ok, type Result } from '../domain/result.ts';
import { parseDirectoryCsv } from '../identity/directory-csv.ts';
import type { DirectoryEntry, DirectoryImport, DirectoryStore } from '../ports/store.ts';
import { WEB_WORKSPACE } from '../protocol/index.ts';

export async function importDirectory(
  directory: Pick<DirectoryStore, 'importDirectory'>,
  workspace: string,
  csv: string,
): Promise<Result<DirectoryImport, 'invalid_csv'>> {
  const parsed = parseDirectoryCsv(csv);
  if (!parsed.ok) return parsed;
  const entries: DirectoryEntry[] = [];
  for (const [i, e] of parsed.value.entries()) {
    const owned = ownedBy(workspace, e);
    if (!owned)
      return fail(
        'invalid_csv',
        `Row ${i + 1}: a ${e.platform} identity does not belong to workspace ${workspace}.`,
      );
    entries.push(owned);
  }
  return ok(await directory.importDirectory(workspace, entries));
}

function ownedBy(workspace: string, e: DirectoryEntry): DirectoryEntry | null {
  if (workspace === WEB_WORKSPACE) return e;
  const [platform, id] = workspace.split(':') as [string, string];
  if (e.platform !== platform) return null;
  if (e.tenant === '') return { ...e, tenant: id };
  // An Enterprise Grid org (its id starts with E) spans many teams: any of its team ids may be named.
  const enterprise = platform === 'slack' && id.startsWith('E');
  return enterprise || e.tenant === id ? e : null;
}
