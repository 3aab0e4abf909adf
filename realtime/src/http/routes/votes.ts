// Ballots: cast (with Idempotency-Key), take back, read one's own, add an option where the poll allows it.
import {
  addOption,
  addOptionSchema,
  type CastResult,
  castVote,
  castVoteSchema,
  effectiveStatus,
  ID_PATTERN,
  idempotencyKeySchema,
  retractVote,
  voterKey,
} from '@livevote/core';
import type { AddOptionResponse, MyVotesResponse, VoteResponse } from '@livevote/core/protocol';
import { Router } from 'express';
import type { HttpDeps } from '../deps.ts';
import { HttpError, sendError, sendFailure } from '../errors.ts';
import { identityOf, voterOf } from '../identity.ts';
import { etagOf } from '../middleware/conditional-get.ts';
import { pollIdOf, route } from '../route.ts';
import { receivedAt, StageTimer } from '../server-timing.ts';
import { parse } from '../validate.ts';

const voteBody = (r: CastResult): VoteResponse => ({
  version: r.snapshot.version,
  snapshot: r.snapshot,
  option_ids: r.optionIds,
  changed: r.changed,
  replayed: r.replayed,
});

export function voteRoutes(deps: HttpDeps): Router {
  const { core, auth } = deps;
  const r = Router();

  r.post(
    '/polls/:id/votes',
    route(async (req, res) => {
      const pollId = pollIdOf(req);
      const voter = voterOf(req, auth);
      const key = req.get('idempotency-key');
      if (key !== undefined && !idempotencyKeySchema.safeParse(key).success) {
        throw new HttpError(
          400,
          'invalid_idempotency_key',
          'Idempotency-Key must be 1-200 visible ASCII characters.',
        );
      }
      const body = parse(castVoteSchema, req.body);
      const timer = new StageTimer(receivedAt(res));
      timer.mark('edge');
      const result = await castVote(
        core,
        {
          pollId,
          questionId: body.question_id,
          optionIds: body.option_ids,
          voter,
          ...(key ? { idempotencyKey: key } : {}),
        },
        timer.mark,
      );
      res.set('Server-Timing', timer.header());
      if (!result.ok) return sendFailure(res, result);
      if (result.value.replayed) res.set('Idempotent-Replayed', 'true');
      res.set('ETag', etagOf(result.value.snapshot.version)).json(voteBody(result.value));
    }),
  );

  r.get(
    '/polls/:id/my-votes',
    route(async (req, res) => {
      const pollId = pollIdOf(req);
      const { voter, signed } = identityOf(req, auth);
      const poll = await core.snapshots.poll(pollId);
      if (!poll) return sendError(res, 404, 'unknown_poll', 'No such poll.');
      // A bare emp_no is a claim anyone can type: answering it would show anyone's choice in an anonymous poll,
      // and the results a poll hides while it is open. Those polls tell a voter their ballot only on a token.
      const hiding = poll.settings.results_hidden && effectiveStatus(poll, new Date()) === 'open';
      if (!signed && (poll.settings.anonymous || hiding))
        return sendError(
          res,
          403,
          'token_required',
          'This poll shows your own choice only to a signed voter link (from Slack or Teams).',
        );
      res.json({ ballots: await core.ballots.ballotsOf(pollId, voter) } satisfies MyVotesResponse);
    }),
  );

  r.delete(
    '/polls/:id/votes/:question_id',
    route(async (req, res) => {
      const pollId = pollIdOf(req);
      const voter = voterOf(req, auth);
      const questionId = String(req.params.question_id);
      if (!ID_PATTERN.test(questionId))
        throw new HttpError(422, 'unknown_question', 'This poll has no such question.');
      const result = await retractVote(core, { pollId, questionId, voter });
      if (!result.ok) return sendFailure(res, result);
      res.set('ETag', etagOf(result.value.snapshot.version)).json(voteBody(result.value));
    }),
  );

  r.post(
    '/polls/:id/questions/:question_id/options',
    route(async (req, res) => {
      const pollId = pollIdOf(req);
      const voter = voterOf(req, auth);
      const body = parse(addOptionSchema, req.body);
      const result = await addOption(
        core,
        pollId,
        String(req.params.question_id),
        body.label,
        voterKey(voter),
      );
      if (!result.ok) return sendFailure(res, result);
      res.status(201).json({
        option_id: result.value.optionId,
        snapshot: result.value.snapshot,
      } satisfies AddOptionResponse);
    }),
  );
  return r;
}
