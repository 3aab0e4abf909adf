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
  mayActIn,
  REASON_MESSAGES,
  retractVote,
  voterKey,
} from '@livevote/core';
import type { AddOptionResponse, MyVotesResponse, VoteResponse } from '@livevote/core/protocol';
import { Router } from 'express';
import type { HttpDeps } from '../deps.ts';
import { failureReply, HttpError, type Reply, sendError, sendFailure, sendReply } from '../errors.ts';
import { identityOf, type RequestLike, voterOf } from '../identity.ts';
import { etagOf } from '../middleware/conditional-get.ts';
import { checkedPollId, pollIdOf, route } from '../route.ts';
import { receivedAt, StageTimer } from '../server-timing.ts';
import { parse } from '../validate.ts';

const voteBody = (r: CastResult): VoteResponse => ({
  version: r.snapshot.version,
  snapshot: r.snapshot,
  option_ids: r.optionIds,
  changed: r.changed,
  replayed: r.replayed,
});

/** What casting reads of a request; the Express route and the fast path (fast-votes.ts) both give it. */
export interface CastRequest extends RequestLike {
  /** The `:id` of the path, as given (checked here). */
  pollId: unknown;
  body: unknown;
  /** When the request reached us (performance.now()): where its Server-Timing starts. */
  receivedAt: number;
}

/** POST /api/polls/:id/votes, whole: its answer, or a thrown HttpError (or store error) for the error path. */
export async function castReply(deps: HttpDeps, req: CastRequest): Promise<Reply> {
  const pollId = checkedPollId(req.pollId);
  const voter = voterOf(req, deps.auth);
  const key = req.get('idempotency-key');
  if (key !== undefined && !idempotencyKeySchema.safeParse(key).success) {
    throw new HttpError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1-200 visible ASCII characters.',
    );
  }
  const body = parse(castVoteSchema, req.body);
  const timer = new StageTimer(req.receivedAt);
  timer.mark('edge');
  const result = await castVote(
    deps.core,
    {
      pollId,
      questionId: body.question_id,
      optionIds: body.option_ids,
      voter,
      ...(key ? { idempotencyKey: key } : {}),
    },
    timer.mark,
  );
  const timing = { 'Server-Timing': timer.header() };
  if (!result.ok) {
    const r = failureReply(result);
    return { ...r, headers: { ...timing, ...r.headers } };
  }
  return {
    status: 200,
    headers: {
      ...timing,
      ...(result.value.replayed ? { 'Idempotent-Replayed': 'true' } : {}),
      ETag: etagOf(result.value.snapshot.version),
    },
    body: voteBody(result.value),
  };
}

export function voteRoutes(deps: HttpDeps): Router {
  const { core, auth } = deps;
  const r = Router();

  r.post(
    '/polls/:id/votes',
    route(async (req, res) => {
      sendReply(
        res,
        await castReply(deps, {
          pollId: req.params.id,
          query: req.query,
          get: (name) => req.get(name),
          body: req.body,
          receivedAt: receivedAt(res),
        }),
      );
    }),
  );

  r.get(
    '/polls/:id/my-votes',
    route(async (req, res) => {
      const pollId = pollIdOf(req);
      const { voter, signed } = identityOf(req, auth);
      const poll = await core.snapshots.poll(pollId);
      if (!poll) return sendError(res, 404, 'unknown_poll', 'No such poll.');
      if (!mayActIn(voter, poll.workspace))
        return sendError(res, 403, 'wrong_workspace', REASON_MESSAGES.wrong_workspace);
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
      const poll = await core.snapshots.poll(pollId);
      if (poll && !mayActIn(voter, poll.workspace))
        return sendError(res, 403, 'wrong_workspace', REASON_MESSAGES.wrong_workspace);
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
