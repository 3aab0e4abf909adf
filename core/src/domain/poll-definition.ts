// Turns a create-poll request into a full poll definition (questions, option ids) for the lunch and choice templates.
import {
  type CreatePollBody,
  type PlaceInput,
  type Poll,
  type PollQuestion,
  type PollSettings,
  WEB_WORKSPACE,
} from '../protocol/index.ts';

/** A place of a lunch poll body, with the catalog's ids when it came from the catalog. */
type CatalogBuiltPlace = PlaceInput & {
  id?: string;
  menus: (PlaceInput['menus'][number] & { id?: string })[];
};

const DEFAULT_SETTINGS: PollSettings = {
  anonymous: false,
  results_hidden: false,
  show_turnout: false,
  allow_add_options: false,
  quorum: null,
};

export function buildPoll(body: CreatePollBody, id: string, now: Date): Poll {
  const settings = { ...DEFAULT_SETTINGS, ...body.settings };
  const base = {
    id,
    workspace: body.workspace ?? WEB_WORKSPACE,
    template: body.template,
    status: 'open' as const,
    created_at: now.toISOString(),
    closes_at: body.closes_at ? new Date(body.closes_at).toISOString() : null,
    settings,
  };
  if (body.template === 'lunch') {
    const places: PollQuestion = {
      id: 'place',
      kind: 'place',
      prompt: 'Where shall we eat?',
      max_choices: body.max_choices ?? 1,
      options: [],
    };
    const menus: PollQuestion = {
      id: 'menu',
      kind: 'menu',
      prompt: 'What shall we eat?',
      max_choices: 1,
      options: [],
    };
    // Places from the catalog bring their ids (a vote then names the place itself, whatever the catalog does
    // later); typed-in places are numbered.
    const placeList: CatalogBuiltPlace[] = body.places ?? [];
    placeList.forEach((p, i) => {
      const placeId = p.id ?? `p${i + 1}`;
      places.options.push({ id: placeId, label: p.name, ...(p.label_en ? { label_en: p.label_en } : {}) });
      for (const m of p.menus) {
        menus.options.push({
          id: m.id ?? `m${menus.options.length + 1}`,
          label: m.name,
          ...(m.label_en ? { label_en: m.label_en } : {}),
          place_id: placeId,
        });
      }
    });
    const questions = menus.options.length > 0 ? [places, menus] : [places];
    return { ...base, title: body.title ?? 'Lunch', questions };
  }
  const specs = body.questions ?? [
    { prompt: body.title, options: body.options ?? [], max_choices: body.max_choices },
  ];
  let n = 0;
  const questions: PollQuestion[] = specs.map((q, i) => ({
    id: `q${i + 1}`,
    kind: 'choice',
    prompt: q.prompt,
    max_choices: Math.min(q.max_choices ?? body.max_choices ?? 1, q.options.length),
    options: q.options.map((label) => {
      n += 1;
      return { id: `o${n}`, label };
    }),
  }));
  return { ...base, title: body.title, questions };
}

/** Option labels must be unique within a question (case- and space-insensitive), or voters can't tell them apart. */
const normalizeLabel = (label: string): string => label.trim().replace(/\s+/g, ' ').toLowerCase();

export function duplicateLabels(poll: Poll): string[] {
  const dups: string[] = [];
  for (const q of poll.questions) {
    const seen = new Set<string>();
    for (const o of q.options) {
      const key = `${o.place_id ?? ''}|${normalizeLabel(o.label)}`;
      if (seen.has(key)) dups.push(o.label);
      seen.add(key);
    }
  }
  return dups;
}

export function effectiveStatus(poll: Pick<Poll, 'status' | 'closes_at'>, now: Date): Poll['status'] {
  if (poll.status === 'closed') return 'closed';
  return poll.closes_at !== null && Date.parse(poll.closes_at) <= now.getTime() ? 'closed' : 'open';
}
