// Creating a poll from a chat command (Slack `/lunch`, `/vote`; Teams `lunch`, `poll Q; A; B`): the poll belongs to
// the chat's workspace, a lunch poll is made from that workspace's catalog, and labels are cut to what a poll takes.
import { fail, type Reason, type Result, rateLimited } from '../domain/result.ts';
import { type Voter, voterKey } from '../domain/voter.ts';
import type { RateLimit } from '../ports/rate-limit.ts';
import { type CreatePollBody, createPollSchema, type Poll, type Snapshot } from '../protocol/index.ts';
import { type CatalogDeps, catalogOf, type PollPlace } from './catalog.ts';
import { createPoll, type PollDeps } from './manage-polls.ts';

export type ChatPollRequest =
  | {
      template: 'lunch';
      title?: string;
      /** Chosen from the catalog (with their ids); absent: every active place of the workspace's catalog. */
      places?: PollPlace[];
      closesAt?: string | null;
      anonymous?: boolean;
      resultsHidden?: boolean;
    }
  | {
      template: 'choice';
      question: string;
      options: string[];
      closesAt?: string | null;
      anonymous?: boolean;
      resultsHidden?: boolean;
      /** How many options one person may choose; absent: one. */
      maxChoices?: number;
      allowAddOptions?: boolean;
    };

const LABEL_MAX = 120;
const cut = (s: string) => s.trim().slice(0, LABEL_MAX);

/** A field of a chat-made poll as the person who typed it would name it. */
function fieldName(path: PropertyKey[], template: ChatPollRequest['template']): string {
  const [field, i, sub, j] = path;
  const n = (x: PropertyKey | undefined) => Number(x) + 1;
  if (field === 'title') return template === 'choice' ? 'The question' : 'The title';
  if (field === 'options') return `Option ${n(i)}`;
  if (field === 'places' && sub === 'menus') return `Menu ${n(j)} of place ${n(i)}`;
  if (field === 'places') return `Place ${n(i)}`;
  return path.map(String).join('.') || 'The poll';
}

export async function createChatPoll(
  deps: PollDeps & CatalogDeps & { pollLimit?: RateLimit },
  workspace: string,
  creator: Voter,
  req: ChatPollRequest,
): Promise<Result<{ poll: Poll; snapshot: Snapshot }, Reason | 'invalid_label'>> {
  const closes = req.closesAt ? { closes_at: req.closesAt } : {};
  // Places from the catalog keep their ids (the poll's options become those places, whatever the catalog does
  // later); the check below sees only what a typed-in poll would carry.
  const chosen: PollPlace[] =
    req.template === 'lunch' ? (req.places ?? (await catalogOf(deps, workspace))).slice(0, 50) : [];
  const plain = (x: { name: string; label_en?: string | undefined }) => ({
    name: x.name,
    ...(x.label_en ? { label_en: x.label_en } : {}),
  });
  const body: CreatePollBody =
    req.template === 'lunch'
      ? {
          template: 'lunch',
          workspace,
          ...(req.title ? { title: cut(req.title) } : {}),
          places: chosen.map((p) => ({ ...plain(p), menus: p.menus.map(plain) })),
          ...closes,
          settings: { anonymous: req.anonymous ?? false, results_hidden: req.resultsHidden ?? false },
        }
      : {
          template: 'choice',
          workspace,
          title: cut(req.question),
          options: req.options.map(cut),
          ...closes,
          ...(req.maxChoices ? { max_choices: req.maxChoices } : {}),
          settings: {
            anonymous: req.anonymous ?? false,
            results_hidden: req.resultsHidden ?? false,
            allow_add_options: req.allowAddOptions ?? false,
          },
        };
  // The same rules as the REST edge (labels without control characters or bidi overrides, among others): chat text
  // reaches the same boards, messages and exports.
  const checked = createPollSchema.safeParse(body);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return fail(
      'invalid_label',
      `${fieldName(issue?.path ?? [], req.template)} ${issue?.message ?? 'is not valid'}.`,
    );
  }
  // Anyone in a chat can make polls: one person (or script) gets the same per-minute cap as an address on the web.
  const admitted = await deps.pollLimit?.take(`poll:${voterKey(creator)}`);
  if (admitted && !admitted.ok)
    return rateLimited(admitted.retryAfterMs, 'Too many new polls in a short time');
  const data = checked.data;
  if (data.template === 'lunch' && data.places)
    data.places = data.places.map((p, i): PollPlace => {
      const src = chosen[i];
      return {
        ...p,
        ...(src?.id ? { id: src.id } : {}),
        menus: p.menus.map((m, j) => {
          const id = src?.menus[j]?.id;
          return id ? { ...m, id } : m;
        }),
      };
    });
  return createPoll(deps, data, { kind: 'voter', key: voterKey(creator) });
}
