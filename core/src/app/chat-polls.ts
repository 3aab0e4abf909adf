// Creating a poll from a chat command (Slack `/lunch`, `/vote`; Teams `lunch`, `poll Q; A; B`): the poll belongs to
// the chat's workspace, a lunch poll is made from that workspace's catalog, and labels are cut to what a poll takes.
import type { Result } from '../domain/result.ts';
import { type Voter, voterKey } from '../domain/voter.ts';
import type { CreatePollBody, PlaceInput, Poll, Snapshot } from '../protocol/index.ts';
import { type CatalogDeps, catalogOf } from './catalog.ts';
import { createPoll, type PollDeps } from './manage-polls.ts';

export type ChatPollRequest =
  | {
      template: 'lunch';
      title?: string;
      /** Chosen from the catalog; absent: every place of the workspace's catalog. */
      places?: PlaceInput[];
      closesAt?: string | null;
      anonymous?: boolean;
      resultsHidden?: boolean;
    }
  | { template: 'choice'; question: string; options: string[]; closesAt?: string | null };

const LABEL_MAX = 120;
const cut = (s: string) => s.trim().slice(0, LABEL_MAX);

export async function createChatPoll(
  deps: PollDeps & CatalogDeps,
  workspace: string,
  creator: Voter,
  req: ChatPollRequest,
): Promise<Result<{ poll: Poll; snapshot: Snapshot }>> {
  const closes = req.closesAt ? { closes_at: req.closesAt } : {};
  const body: CreatePollBody =
    req.template === 'lunch'
      ? {
          template: 'lunch',
          workspace,
          ...(req.title ? { title: cut(req.title) } : {}),
          places: (req.places ?? (await catalogOf(deps, workspace))).slice(0, 50),
          ...closes,
          settings: { anonymous: req.anonymous ?? false, results_hidden: req.resultsHidden ?? false },
        }
      : { template: 'choice', workspace, title: cut(req.question), options: req.options.map(cut), ...closes };
  return createPoll(deps, body, { kind: 'voter', key: voterKey(creator) });
}
