// The catalog of a workspace: the places (with their menus) its lunch polls are made from. A workspace that never had
// any starts from the demo's places, written once as its catalog. Never another workspace's; never an older poll's.
import { DEMO_PLACES } from '../domain/demo-lunch.ts';
import { parseCatalogCsv } from '../domain/lunch/catalog-csv.ts';
import { newPollId } from '../domain/poll-id.ts';
import { fail, ok, REASON_MESSAGES, type Result } from '../domain/result.ts';
import type { CatalogStore, NewCatalogPlace } from '../ports/lunch-store.ts';
import {
  type CatalogPlace,
  type CatalogPlaceInput,
  type CatalogPlacePatch,
  catalogPlaceInputSchema,
  catalogPlacePatchSchema,
  type PlaceInput,
} from '../protocol/index.ts';

export interface CatalogDeps {
  catalog: CatalogStore;
}

/** A place as a lunch poll takes it: the catalog's ids become the poll's option ids. */
export type PollPlace = PlaceInput & {
  id?: string;
  menus: (PlaceInput['menus'][number] & { id?: string })[];
};

const starter = (): NewCatalogPlace[] =>
  DEMO_PLACES.map((p) => ({
    id: newPollId(),
    name: p.name,
    ...(p.label_en ? { label_en: p.label_en } : {}),
    tags: [],
    dietary: [],
    active: true,
    menus: p.menus.map((m) => ({
      id: newPollId(),
      name: m.name,
      ...(m.label_en ? { label_en: m.label_en } : {}),
    })),
  }));

/** Every place of the workspace's catalog, active or not (seeding the starter places the first time). */
export async function listCatalog(deps: CatalogDeps, workspace: string): Promise<CatalogPlace[]> {
  const places = await deps.catalog.places(workspace);
  if (places.length > 0) return places;
  await deps.catalog.seedPlaces(workspace, starter());
  return deps.catalog.places(workspace);
}

/** The active places a lunch poll of this workspace offers, with their catalog ids. */
export async function catalogOf(deps: CatalogDeps, workspace: string): Promise<(CatalogPlace & PollPlace)[]> {
  return (await listCatalog(deps, workspace)).filter((p) => p.active);
}

/** The places of a new lunch poll: the given catalog ids (in that order), or every active place. */
export async function placesForPoll(
  deps: CatalogDeps,
  workspace: string,
  placeIds?: readonly string[],
): Promise<Result<PollPlace[]>> {
  const active = await catalogOf(deps, workspace);
  if (placeIds) {
    const byId = new Map(active.map((p) => [p.id, p]));
    const missing = placeIds.find((id) => !byId.has(id));
    if (missing !== undefined)
      return fail('unknown_place', `No active place "${missing}" in the catalog of ${workspace}.`);
    return ok(placeIds.map((id) => byId.get(id) as CatalogPlace));
  }
  if (active.length < 2) return fail('too_few_places', REASON_MESSAGES.too_few_places);
  return ok(active.slice(0, 50));
}

const withMenuIds = (
  menus: CatalogPlaceInput['menus'],
  known: ReadonlySet<string>,
): NewCatalogPlace['menus'] =>
  menus.map((m) => ({
    id: m.id && known.has(m.id) ? m.id : newPollId(),
    name: m.name,
    ...(m.label_en ? { label_en: m.label_en } : {}),
  }));

export async function addCatalogPlace(
  deps: CatalogDeps,
  workspace: string,
  input: CatalogPlaceInput,
): Promise<Result<CatalogPlace>> {
  await listCatalog(deps, workspace); // a first place added by hand still comes after the starter ones: no surprise seed later
  const { workspace: _ignored, menus, ...fields } = input;
  const r = await deps.catalog.addPlace(workspace, {
    ...fields,
    id: newPollId(),
    menus: withMenuIds(menus, new Set()),
  });
  return r.ok ? ok(r.value) : fail(r.reason, REASON_MESSAGES[r.reason]);
}

export async function updateCatalogPlace(
  deps: CatalogDeps,
  workspace: string,
  id: string,
  patch: CatalogPlacePatch,
): Promise<Result<CatalogPlace>> {
  const current = (await deps.catalog.places(workspace)).find((p) => p.id === id);
  if (!current) return fail('unknown_place', REASON_MESSAGES.unknown_place);
  const { menus, ...fields } = patch;
  const known = new Set(current.menus.map((m) => m.id));
  const r = await deps.catalog.updatePlace(workspace, id, {
    ...fields,
    ...(menus ? { menus: withMenuIds(menus, known) } : {}),
  });
  return r.ok ? ok(r.value) : fail(r.reason, REASON_MESSAGES[r.reason]);
}

/**
 * Imports the CSV (see domain/lunch/catalog-csv.ts): rows with an id update that place, rows without one add a place
 * (or update the place of that name). Every row is checked before anything is written; a bad row changes nothing.
 */
export async function importCatalogCsv(
  deps: CatalogDeps,
  workspace: string,
  csv: string,
): Promise<Result<{ created: number; updated: number }, 'invalid_csv' | 'unknown_place' | 'place_exists'>> {
  const parsed = parseCatalogCsv(csv);
  if (!parsed.ok) return parsed;
  const current = await listCatalog(deps, workspace);
  const byId = new Map(current.map((p) => [p.id, p]));
  const byName = new Map(current.map((p) => [p.name.toLowerCase(), p]));
  const plan: (
    | { kind: 'add'; input: CatalogPlaceInput }
    | { kind: 'update'; id: string; patch: CatalogPlacePatch }
  )[] = [];
  const seen = new Set<string>();
  for (const row of parsed.value) {
    const name = typeof row.fields.name === 'string' ? row.fields.name.toLowerCase() : '';
    if (seen.has(name)) return fail('invalid_csv', `Line ${row.line}: "${row.fields.name}" is listed twice.`);
    seen.add(name);
    const target = row.id !== undefined ? byId.get(row.id) : byName.get(name);
    if (row.id !== undefined && !target)
      return fail(
        'unknown_place',
        `Line ${row.line}: no place with id ${row.id} in the catalog of ${workspace}.`,
      );
    const schema = target ? catalogPlacePatchSchema : catalogPlaceInputSchema;
    const checked = schema.safeParse(row.fields);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return fail(
        'invalid_csv',
        `Line ${row.line}: ${issue?.path.join('.') || 'row'} ${issue?.message ?? 'is not valid'}.`,
      );
    }
    if (target) {
      const patch = checked.data as CatalogPlacePatch;
      // Menus keep their ids where the name is the same, so open polls' menu choices stay what they were.
      if (patch.menus)
        patch.menus = patch.menus.map((m) => {
          const same = target.menus.find((x) => x.name === m.name);
          return same ? { ...m, id: same.id } : m;
        });
      plan.push({ kind: 'update', id: target.id, patch });
    } else plan.push({ kind: 'add', input: checked.data as CatalogPlaceInput });
  }
  let created = 0;
  let updated = 0;
  for (const step of plan) {
    const r =
      step.kind === 'add'
        ? await addCatalogPlace(deps, workspace, step.input)
        : await updateCatalogPlace(deps, workspace, step.id, step.patch);
    if (!r.ok) return fail(r.reason as 'place_exists', r.message);
    if (step.kind === 'add') created++;
    else updated++;
  }
  return ok({ created, updated });
}
