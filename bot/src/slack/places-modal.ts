// The `/lunch places` modal: the workspace's catalog listed, and one change per submit — add a place (no place
// picked), or edit or (de)activate the picked one. Values are place ids; the core catalog use cases do the writing.
// Whoever may not change the catalog gets it as text instead (placesMrkdwn).
import type { CatalogPlace, CatalogPlaceInput, CatalogPlacePatch } from '@livevote/core/protocol';
import { catalogPlaceInputSchema, catalogPlacePatchSchema } from '@livevote/core/protocol';
import { escapeMrkdwn as esc } from './mrkdwn.ts';
import type { Block } from './render-poll.ts';
import type { ViewState } from './view-state.ts';

export const PLACES_MODAL = 'lunch-places-modal';

const text = (t: string) => ({ type: 'plain_text', text: t.slice(0, 75) });
const input = (block_id: string, label: string, element: object, hint?: string) => ({
  type: 'input',
  block_id,
  optional: true,
  label: text(label),
  element: { action_id: 'v', ...element },
  ...(hint ? { hint: { type: 'plain_text', text: hint } } : {}),
});

export function placesModal(catalog: CatalogPlace[]): Block {
  const listing = catalog
    .slice(0, 60)
    .map(
      (p) =>
        `${p.active ? '•' : '◦ (inactive)'} ${p.name}${p.label_en ? ` (${p.label_en})` : ''}${p.menus.length ? ` — ${p.menus.map((m) => m.name).join(', ')}` : ''}`,
    )
    .join('\n');
  return {
    type: 'modal',
    callback_id: PLACES_MODAL,
    title: text('Lunch places'),
    submit: text('Save'),
    close: text('Close'),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: (listing || 'No places yet.').slice(0, 2_900) } },
      { type: 'divider' },
      input('place', 'Place to change (none: add a new one)', {
        type: 'static_select',
        options: catalog.slice(0, 100).map((p) => ({ text: text(p.name), value: p.id })),
      }),
      input('name', 'Name', { type: 'plain_text_input', max_length: 120 }, 'Empty keeps the current name.'),
      input('label_en', 'English name', { type: 'plain_text_input', max_length: 120 }),
      input(
        'menus',
        'Menus, one per line',
        { type: 'plain_text_input', multiline: true },
        'Empty keeps the current menus.',
      ),
      input('url', 'Menu or map URL', { type: 'url_text_input' }),
      input('status', 'Status', {
        type: 'radio_buttons',
        options: [
          { text: text('Active (offered in polls)'), value: 'active' },
          { text: text('Inactive (kept, not offered)'), value: 'inactive' },
        ],
      }),
    ],
  };
}

export type PlacesChange =
  | { ok: true; kind: 'add'; input: CatalogPlaceInput }
  | { ok: true; kind: 'update'; id: string; patch: CatalogPlacePatch }
  | { ok: false; errors: Record<string, string> };

/** The one change a submitted places modal asks for, checked by the catalog's own schemas. */
export function readPlacesModal(state: ViewState, catalog: CatalogPlace[]): PlacesChange {
  const v = state.values;
  const str = (block: string) => v[block]?.v?.value?.trim() || undefined;
  const id = v.place?.v?.selected_option?.value;
  const status = v.status?.v?.selected_option?.value;
  const menusText = str('menus');
  const fields = {
    ...(str('name') ? { name: str('name') } : {}),
    ...(str('label_en') ? { label_en: str('label_en') } : {}),
    ...(str('url') ? { url: str('url') } : {}),
    ...(menusText
      ? {
          menus: menusText
            .split('\n')
            .map((m) => m.trim())
            .filter(Boolean)
            .map((name) => ({ name })),
        }
      : {}),
    ...(status ? { active: status === 'active' } : {}),
  };
  const problem = (issues: { path: PropertyKey[]; message: string }[]) => {
    const first = issues[0];
    const block = String(first?.path[0] ?? 'name');
    return { ok: false as const, errors: { [v[block] ? block : 'name']: first?.message ?? 'Not valid.' } };
  };
  if (!id) {
    if (!fields.name) return { ok: false, errors: { name: 'A new place needs a name.' } };
    const r = catalogPlaceInputSchema.safeParse(fields);
    return r.success ? { ok: true, kind: 'add', input: r.data } : problem(r.error.issues);
  }
  if (!catalog.some((p) => p.id === id))
    return { ok: false, errors: { place: 'That place is no longer in the catalog.' } };
  if (Object.keys(fields).length === 0) return { ok: false, errors: { name: 'Change at least one field.' } };
  const r = catalogPlacePatchSchema.safeParse(fields);
  return r.success ? { ok: true, kind: 'update', id, patch: r.data } : problem(r.error.issues);
}

/** The catalog as a message, for someone who may read it but not change it. */
export function placesMrkdwn(places: CatalogPlace[], note: string): string {
  const lines = places.map((p) => {
    const name = `*${esc(p.name)}*${p.label_en ? ` (${esc(p.label_en)})` : ''}`;
    const menus = p.menus.length ? `: ${p.menus.map((m) => esc(m.name)).join(', ')}` : '';
    return `• ${p.active ? name : `~${name}~ (inactive)`}${menus}`;
  });
  return `${lines.length ? `*Lunch places*\n${lines.join('\n')}` : 'No lunch places yet.'}\n_${esc(note)}_`;
}
