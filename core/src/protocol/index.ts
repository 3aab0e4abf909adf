// The wire contract (REST bodies, WebSocket frames, SSE events) shared by realtime/ and web/.
// Names follow the original lunch-vote client and docs/architecture.md; renaming one here fails typecheck everywhere.
import { z } from 'zod';

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const idSchema = z.string().regex(ID_PATTERN, 'must be 1-64 letters, digits, "_" or "-"');
/** Employee numbers are digits; the bound keeps a 10,000-character value from reaching the database. */
export const empNoSchema = z.string().regex(/^[0-9]{1,20}$/, 'emp_no must be 1-20 digits');

/**
 * Who owns a poll (and its catalog, chat messages, directory entries): a Slack workspace (team, or enterprise for an
 * org-wide install), a Teams tenant, or `web` (the web admin's and the embedded demo's). Nothing crosses workspaces.
 */
export const WORKSPACE_PATTERN = /^(web|slack:[A-Za-z0-9]{1,40}|teams:[A-Za-z0-9-]{1,64})$/;
export const workspaceSchema = z
  .string()
  .regex(WORKSPACE_PATTERN, 'workspace must be "web", "slack:<team id>" or "teams:<tenant id>"');
export const WEB_WORKSPACE = 'web';

export const templateSchema = z.enum(['lunch', 'choice']);
export const questionKindSchema = z.enum(['place', 'menu', 'choice']);
export const pollStatusSchema = z.enum(['open', 'closed']);

export const pollSettingsSchema = z.object({
  anonymous: z.boolean(),
  results_hidden: z.boolean(),
  /** While results are hidden, still show how many have voted (`total_voters`, each question's `voters`). */
  show_turnout: z.boolean(),
  allow_add_options: z.boolean(),
  quorum: z.number().int().min(1).nullable(),
});
export type PollSettings = z.infer<typeof pollSettingsSchema>;

/**
 * Characters no title, prompt or label may hold. Control characters (C0 including NUL, tab and newlines, DEL, C1)
 * break the one-line places labels are shown in (TV board, chat messages, CSV cells) or hide text in them; the
 * Unicode bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) make a label display differently from
 * what it is ("Trojan Source"), e.g. an option that reads like another one. Refused, never silently stripped, and
 * checked before trimming, so an edge cannot smuggle one in as "whitespace".
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are refused
export const FORBIDDEN_LABEL_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
export const LABEL_CHARS_MESSAGE =
  'must not contain control characters (U+0000-U+001F, U+007F-U+009F) or bidirectional overrides (U+202A-U+202E, U+2066-U+2069)';

export const labelSchema = z
  .string()
  .refine((s) => !FORBIDDEN_LABEL_CHARS.test(s), {
    message: LABEL_CHARS_MESSAGE,
    params: { code: 'invalid_characters' },
  })
  .trim()
  .min(1)
  .max(120);
const settingsInputSchema = pollSettingsSchema.partial().strict();

// ---- REST bodies ----------------------------------------------------------------------------------------

export const createChoicePollSchema = z
  .object({
    template: z.literal('choice'),
    title: labelSchema,
    /** Either one question's options (the quick form) or several questions. */
    options: z.array(labelSchema).min(2).max(100).optional(),
    questions: z
      .array(
        z
          .object({
            prompt: labelSchema,
            options: z.array(labelSchema).min(2).max(100),
            max_choices: z.number().int().min(1).max(100).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(10)
      .optional(),
    max_choices: z.number().int().min(1).max(100).optional(),
    closes_at: z.iso.datetime({ offset: true }).nullable().optional(),
    settings: settingsInputSchema.optional(),
    workspace: workspaceSchema.optional(),
  })
  .strict()
  .refine((b) => (b.options === undefined) !== (b.questions === undefined), {
    message: 'give either options or questions',
  });

export const placeInputSchema = z
  .object({
    name: labelSchema,
    label_en: labelSchema.optional(),
    menus: z
      .array(z.object({ name: labelSchema, label_en: labelSchema.optional() }).strict())
      .max(30)
      .default([]),
  })
  .strict();
export type PlaceInput = z.infer<typeof placeInputSchema>;

export const createLunchPollSchema = z
  .object({
    template: z.literal('lunch'),
    title: labelSchema.optional(),
    places: z.array(placeInputSchema).min(2).max(50),
    max_choices: z.number().int().min(1).max(50).optional(),
    closes_at: z.iso.datetime({ offset: true }).nullable().optional(),
    settings: settingsInputSchema.optional(),
    workspace: workspaceSchema.optional(),
  })
  .strict();

export const createPollSchema = z.discriminatedUnion('template', [
  createChoicePollSchema,
  createLunchPollSchema,
]);
export type CreatePollBody = z.infer<typeof createPollSchema>;

export const castVoteSchema = z
  .object({
    question_id: idSchema,
    option_ids: z.array(idSchema).min(1).max(100),
  })
  .strict();
export type CastVoteBody = z.infer<typeof castVoteSchema>;

export const addOptionSchema = z.object({ label: labelSchema }).strict();

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, 'Idempotency-Key must be 1-200 visible ASCII characters');

// ---- Poll and snapshot ----------------------------------------------------------------------------------

export const optionSchema = z.object({
  id: z.string(),
  label: z.string(),
  label_en: z.string().optional(),
  place_id: z.string().optional(),
});
export type PollOption = z.infer<typeof optionSchema>;

export const questionSchema = z.object({
  id: z.string(),
  kind: questionKindSchema,
  prompt: z.string(),
  max_choices: z.number().int(),
  options: z.array(optionSchema),
});
export type PollQuestion = z.infer<typeof questionSchema>;

export const pollSchema = z.object({
  id: z.string(),
  workspace: z.string(),
  title: z.string(),
  template: templateSchema,
  status: pollStatusSchema,
  created_at: z.string(),
  closes_at: z.string().nullable(),
  settings: pollSettingsSchema,
  questions: z.array(questionSchema),
});
export type Poll = z.infer<typeof pollSchema>;

export const pollSummarySchema = pollSchema.pick({
  id: true,
  workspace: true,
  title: true,
  template: true,
  status: true,
  created_at: true,
  closes_at: true,
});
export type PollSummary = z.infer<typeof pollSummarySchema>;

export const placeVoteSchema = z.object({
  place_id: z.string(),
  place_name: z.string(),
  vote_count: z.number(),
});
export const menuVoteSchema = z.object({
  menu_id: z.string(),
  menu_name: z.string(),
  place_id: z.string(),
  vote_count: z.number(),
});
export type PlaceVote = z.infer<typeof placeVoteSchema>;
export type MenuVote = z.infer<typeof menuVoteSchema>;

export const leaderSchema = z.object({
  question_id: z.string(),
  option_id: z.string(),
  label: z.string(),
  vote_count: z.number(),
});
export type Leader = z.infer<typeof leaderSchema>;

export const questionTallySchema = z.object({
  question_id: z.string(),
  kind: questionKindSchema,
  /** Ballots in this question (a voter with two choices counts once). */
  voters: z.number(),
  /** null while nobody voted, on a tie at the top, or while results are hidden. */
  leader: z.string().nullable(),
  options: z.array(
    z.object({
      option_id: z.string(),
      label: z.string(),
      place_id: z.string().optional(),
      vote_count: z.number(),
    }),
  ),
});
export type QuestionTally = z.infer<typeof questionTallySchema>;

/** The `vote_update` data: the whole tally of one poll at one version. */
export const snapshotSchema = z.object({
  poll_id: z.string(),
  version: z.number().int(),
  status: pollStatusSchema,
  /**
   * Counts are zero and leaders null while a poll hides results until it closes; so are `total_voters` and each
   * question's `voters`, unless the poll shows its turnout (`settings.show_turnout`).
   */
  results_hidden: z.boolean(),
  total_voters: z.number(),
  leader: leaderSchema.nullable(),
  questions: z.array(questionTallySchema),
  place_votes: z.array(placeVoteSchema).optional(),
  menu_votes: z.array(menuVoteSchema).optional(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

// ---- WebSocket frames -----------------------------------------------------------------------------------

/** A question whose leader moved: the new leader, null when nobody leads (no votes, a tie at the top). */
export const leaderChangeSchema = z.object({
  question_id: z.string(),
  option_id: z.string().nullable(),
  label: z.string().nullable(),
});
export type LeaderChange = z.infer<typeof leaderChangeSchema>;

export const presenceCountsSchema = z.object({ online_count: z.number(), voting_count: z.number() });
export type PresenceCounts = z.infer<typeof presenceCountsSchema>;

/**
 * The `vote_update` frame's data: the snapshot, plus what changed with it, so one frame per broadcast says it all:
 * `leader_changed` (the questions whose leader moved since the previous broadcast; the `leader_changed` frame's
 * fields without poll_id and version) and `presence` (the audience, when it changed). Both are absent when nothing
 * moved; clients that do not know them ignore them.
 */
export const voteUpdateSchema = snapshotSchema.extend({
  leader_changed: z.array(leaderChangeSchema).optional(),
  presence: presenceCountsSchema.optional(),
});
export type VoteUpdate = z.infer<typeof voteUpdateSchema>;

export const serverFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('connection_ack'),
    data: z.object({
      emp_no: z.string().nullable(),
      connection_id: z.string(),
      server_time: z.string(),
      online_count: z.number(),
    }),
  }),
  z.object({ type: z.literal('vote_update'), data: voteUpdateSchema }),
  z.object({
    type: z.literal('place_vote'),
    data: placeVoteSchema.extend({ poll_id: z.string(), version: z.number() }),
  }),
  z.object({
    type: z.literal('menu_vote'),
    data: menuVoteSchema.extend({ poll_id: z.string(), version: z.number() }),
  }),
  z.object({
    type: z.literal('presence'),
    data: z.object({ poll_id: z.string(), online_count: z.number(), voting_count: z.number() }),
  }),
  z.object({
    type: z.literal('leader_changed'),
    data: z.object({
      poll_id: z.string(),
      version: z.number(),
      question_id: z.string(),
      option_id: z.string().nullable(),
      label: z.string().nullable(),
    }),
  }),
  z.object({
    type: z.literal('poll_closed'),
    data: z.object({ poll_id: z.string(), version: z.number(), winners: z.array(leaderSchema) }),
  }),
  z.object({ type: z.literal('pong'), data: z.object({ server_time: z.string() }) }),
  z.object({ type: z.literal('error'), data: z.object({ code: z.string(), message: z.string() }) }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

const pollRef = z.object({ poll_id: idSchema }).strict();
export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping'), data: z.object({}).passthrough().optional() }),
  z.object({
    type: z.literal('subscribe'),
    data: z.object({ poll_id: idSchema, version: z.number().int().min(0).optional() }).strict(),
  }),
  z.object({ type: z.literal('unsubscribe'), data: pollRef }),
  z.object({ type: z.literal('resync'), data: pollRef }),
  z.object({ type: z.literal('voting'), data: pollRef }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

// ---- Errors ---------------------------------------------------------------------------------------------

export const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof errorBodySchema>;

// ---- REST responses -------------------------------------------------------------------------------------
// The server builds these and the web client and tests read them: a renamed field fails typecheck on both sides.

/** `GET /api/polls` */
export interface PollListResponse {
  polls: PollSummary[];
}
/** `GET /api/polls/:id`, `POST /api/polls` */
export interface PollResponse {
  poll: Poll;
  snapshot: Snapshot;
}
/** `POST /api/polls/:id/votes`, `DELETE /api/polls/:id/votes/:question_id` */
export interface VoteResponse {
  version: number;
  snapshot: Snapshot;
  /** The voter's choice in this question after the call (empty: no ballot). */
  option_ids: string[];
  changed: boolean;
  replayed: boolean;
}
/** `POST /api/polls/:id/close` */
export interface CloseResponse {
  snapshot: Snapshot;
  changed: boolean;
}
/** `POST /api/polls/:id/questions/:question_id/options` */
export interface AddOptionResponse {
  option_id: string;
  snapshot: Snapshot;
}
/** `GET /api/polls/:id/my-votes`: question id → the caller's option ids. */
export interface MyVotesResponse {
  ballots: Record<string, string[]>;
}
/** `GET /api/catalog/places` */
export interface CatalogResponse {
  places: PlaceInput[];
}
export interface DirectoryEntryBody {
  platform: 'web' | 'slack' | 'teams';
  tenant: string;
  user: string;
  emp_no: string;
}
/** `POST /api/directory` */
export interface DirectoryImportResponse {
  workspace: string;
  imported: number;
  /** Identities another workspace already maps: left alone. */
  skipped: number;
}
/** `GET /api/directory` */
export interface DirectoryResponse {
  workspace: string;
  entries: DirectoryEntryBody[];
}

/** `GET /api/votes/stats`: the original client's shape. */
export type VoteStats = Pick<Snapshot, 'poll_id' | 'version'> & {
  place_votes: PlaceVote[];
  menu_votes: MenuVote[];
};
