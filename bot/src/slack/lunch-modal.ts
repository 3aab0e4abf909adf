// The /lunch modal: places (with their menus) from the catalog, close time, anonymous, hidden results.
import type { PlaceInput } from '@livevote/core/protocol';
import type { Block } from './render-poll.ts';
import type { ViewState } from './view-state.ts';

export const LUNCH_MODAL = 'lunch-modal';

/** A catalog place as the modal offers it: its id is the option's value (never its index in a list that may change). */
export type ModalPlace = PlaceInput & { id: string };

export function lunchModal(catalog: ModalPlace[], channelId: string): Block {
  const option = (p: ModalPlace) => ({
    text: { type: 'plain_text', text: (p.label_en ? `${p.name} (${p.label_en})` : p.name).slice(0, 75) },
    value: p.id,
  });
  const places = catalog.slice(0, 100).map(option);
  return {
    type: 'modal',
    callback_id: LUNCH_MODAL,
    private_metadata: JSON.stringify({ channel: channelId }),
    title: { type: 'plain_text', text: 'Lunch poll' },
    submit: { type: 'plain_text', text: 'Post poll' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'title',
        optional: true,
        label: { type: 'plain_text', text: 'Title' },
        element: {
          type: 'plain_text_input',
          action_id: 'v',
          max_length: 120,
          placeholder: { type: 'plain_text', text: '오늘 점심 · Lunch today' },
        },
      },
      {
        type: 'input',
        block_id: 'places',
        label: { type: 'plain_text', text: 'Places (each comes with its menus)' },
        element: {
          type: 'multi_static_select',
          action_id: 'v',
          options: places,
          initial_options: places.slice(0, 10),
        },
      },
      {
        type: 'input',
        block_id: 'closes',
        optional: true,
        label: { type: 'plain_text', text: 'Closes at' },
        element: { type: 'datetimepicker', action_id: 'v' },
      },
      {
        type: 'input',
        block_id: 'settings',
        optional: true,
        label: { type: 'plain_text', text: 'Settings' },
        element: {
          type: 'checkboxes',
          action_id: 'v',
          options: [
            { text: { type: 'plain_text', text: 'Anonymous (nobody sees who voted)' }, value: 'anonymous' },
            {
              text: { type: 'plain_text', text: 'Hide results until the poll closes' },
              value: 'results_hidden',
            },
          ],
        },
      },
    ],
  };
}

/**
 * Reads a submitted modal against the catalog as it is now: each picked value is a place id; a place deactivated or
 * removed since the modal opened is reported by name instead of being swapped for whatever now sits at its position.
 */
export function readLunchModal<P extends ModalPlace>(
  state: ViewState,
  catalog: P[],
  now: Date,
):
  | {
      ok: true;
      title?: string;
      places: P[];
      closesAt: string | null;
      anonymous: boolean;
      hidden: boolean;
    }
  | { ok: false; errors: Record<string, string> } {
  const v = state.values;
  const byId = new Map(catalog.map((p) => [p.id, p]));
  const selected = v.places?.v?.selected_options ?? [];
  const picked = selected.map((o) => byId.get(o.value)).filter((p): p is P => !!p);
  const gone = selected.filter((o) => !byId.has(o.value)).map((o) => o.text?.text ?? o.value);
  const errors: Record<string, string> = {};
  if (gone.length > 0)
    errors.places = `No longer in the catalog: ${gone.join(', ')}. Take it out of your picks, or close and run /lunch again.`;
  else if (picked.length < 2) errors.places = 'Pick at least two places.';
  const ts = v.closes?.v?.selected_date_time ?? null;
  if (ts !== null && ts * 1000 <= now.getTime()) errors.closes = 'The close time must be in the future.';
  if (Object.keys(errors).length) return { ok: false, errors };
  const settings = new Set((v.settings?.v?.selected_options ?? []).map((o) => o.value));
  const title = v.title?.v?.value?.trim();
  return {
    ok: true,
    ...(title ? { title } : {}),
    places: picked,
    closesAt: ts === null ? null : new Date(ts * 1000).toISOString(),
    anonymous: settings.has('anonymous'),
    hidden: settings.has('results_hidden'),
  };
}
