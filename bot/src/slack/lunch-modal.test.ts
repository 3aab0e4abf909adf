import { describe, expect, it } from 'vitest';
import { lunchModal, type ModalPlace, readLunchModal } from './lunch-modal.ts';

const place = (id: string, name: string): ModalPlace => ({ id, name, menus: [] });
const now = new Date('2025-03-03T02:00:00Z');

/** What Slack sends back for the picked options of the places select (value and the label it showed). */
const picking = (...picks: ModalPlace[]) => ({
  values: {
    places: { v: { selected_options: picks.map((p) => ({ value: p.id, text: { text: p.name } })) } },
  },
});

describe('the /lunch modal', () => {
  it("offers each place with its catalog id as the option's value", () => {
    const modal = lunchModal([place('pA', '김밥천국'), place('pB', 'Pho')], 'C1') as {
      blocks: { block_id: string; element: { options?: { value: string }[] } }[];
    };
    const values = modal.blocks.find((b) => b.block_id === 'places')?.element.options?.map((o) => o.value);
    expect(values).toEqual(['pA', 'pB']);
  });

  it('picks the places by id even when the catalog was reordered and grew while the modal was open', () => {
    const a = place('pA', 'A');
    const b = place('pB', 'B');
    const c = place('pC', 'C');
    const opened = [a, b, c];
    lunchModal(opened, 'C1');
    // Someone adds a place at the front and the order changes before the submit.
    const now2 = [place('pZ', 'Z'), c, b, a];
    const r = readLunchModal(picking(a, c), now2, now);
    expect(r.ok && r.places.map((p) => p.id)).toEqual(['pA', 'pC']);
  });

  it('refuses a place deactivated since the modal opened, by name, instead of taking its neighbour', () => {
    const a = place('pA', 'A');
    const b = place('pB', 'B');
    const c = place('pC', 'C');
    // B was deactivated: the active catalog no longer lists it; C now sits where B was.
    const r = readLunchModal(picking(a, b), [a, c], now);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.places).toContain('No longer in the catalog: B');
  });
});
