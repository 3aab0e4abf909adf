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
    /** Places typed in; or `place_ids` from the workspace's catalog; neither: every active place of the catalog. */
    places: z.array(placeInputSchema).min(2).max(50).optional(),
    place_ids: z
      .array(idSchema)
      .min(2)
      .max(50)
      .refine((ids) => new Set(ids).size === ids.length, { message: 'place_ids must not repeat' })
      .optional(),
    max_choices: z.number().int().min(1).max(50).optional(),
    closes_at: z.iso.datetime({ offset: true }).nullable().optional(),
    settings: settingsInputSchema.optional(),
    workspace: workspaceSchema.optional(),
  })
  .strict()
  .refine((b) => b.places === undefined || b.place_ids === undefined, {
    message: 'give either places or place_ids',
  });

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

/**
 * How a poll was decided, shown with its result on every surface (additive: absent on polls closed without the
 * lunch rules). `reason`: `majority` (one place had the most votes), `least_recent` (a tie went to the place visited
 * longest ago), `random` (still tied: a seeded pick; `seed` lets anyone re-run it), `early` (the leader could no
 * longer be caught), `quorum_not_met` and `no_votes` (no decision).
 */
export const decisionSchema = z.object({
  outcome: z.enum(['decided', 'no_decision']),
  reason: z.enum(['majority', 'least_recent', 'random', 'early', 'quorum_not_met', 'no_votes']),
  option_id: z.string().nullable(),
  label: z.string().nullable(),
  vote_count: z.number(),
  /** The options that shared the top count, when a tie was broken. */
  tied: z.array(z.string()).optional(),
  /** The random tie-break's seed (hex). */
  seed: z.string().optional(),
  /** Each tied option's last visit (YYYY-MM-DD, or null for never), when the tie went to the least recent. */
  last_visits: z.record(z.string(), z.string().nullable()).optional(),
  /** The poll was extended once for its quorum before this. */
  extended: z.boolean().optional(),
  quorum: z.number().nullable().optional(),
  total_voters: z.number(),
  /** A sentence for people: the same on the board, the vote page and in chat. */
  text: z.string(),
});
export type Decision = z.infer<typeof decisionSchema>;

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
  /** How a lunch poll was decided, once it closed (lunch rules: quorum, tie-breaks, early close). */
  decision: decisionSchema.optional(),
});
export type Poll = z.infer<typeof pollSchema>;

export const pollSummarySchema = pollSchema
  .pick({
    id: true,
    workspace: true,
    title: true,
    template: true,
    status: true,
    created_at: true,
    closes_at: true,
  })
  /** Present (true) while the poll hides its results: the admin can reveal them early. */
  .extend({ results_hidden: z.literal(true).optional() });
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
   * When the poll closes by itself (ISO 8601), null: only by hand. It can move while the poll is open (a lunch poll
   * extended for its quorum), so screens count down to this rather than to the definition's. Absent from older
   * servers.
   */
  closes_at: z.string().nullable().optional(),
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
  /** Set once a lunch poll is decided: the winner and why (see decisionSchema). */
  decision: decisionSchema.optional(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

/**
 * Who won a closed poll, per question. Where the lunch rules decided (`decision`, on the first question), their word
 * is final: the one place they chose (a tie they broke included), or nobody on "no decision" (a quorum missed). Every
 * other question: each option sharing the top count (ties are shown, not broken); none without votes.
 */
export function winnersOf(snapshot: Snapshot): Leader[] {
  const decided = snapshot.decision;
  return snapshot.questions.flatMap((q, i) => {
    const leader = (o: QuestionTally['options'][number]): Leader => ({
      question_id: q.question_id,
      option_id: o.option_id,
      label: o.label,
      vote_count: o.vote_count,
    });
    if (decided && i === 0) {
      const chosen = q.options.find((o) => o.option_id === decided.option_id);
      return decided.outcome === 'decided' && chosen ? [leader(chosen)] : [];
    }
    const top = Math.max(0, ...q.options.map((o) => o.vote_count));
    return top === 0 ? [] : q.options.filter((o) => o.vote_count === top).map(leader);
  });
}

/** When the poll closes by itself: the live snapshot's close time (it can move), else the definition's. */
export const closesAtOf = (
  poll: { closes_at: string | null },
  snapshot: Pick<Snapshot, 'closes_at'>,
): string | null => (snapshot.closes_at !== undefined ? snapshot.closes_at : poll.closes_at);

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
/** `POST /api/polls/:id/reveal`: results shown before the close (`changed: false` when they were not hidden). */
export type RevealResponse = CloseResponse;
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
  places: CatalogPlace[];
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
  /** The first 100 of them, each with the workspace that maps it (where to change it, or remove it). */
  held_elsewhere: DirectoryHeldElsewhere[];
}
export interface DirectoryHeldElsewhere {
  platform: string;
  tenant: string;
  user: string;
  workspace: string;
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

/** One step of `GET /api/polls/:id/timeline`: after this ballot, `voters` ballots stood in the main question. */
export interface TimelinePoint {
  at: string;
  voters: number;
}
/** `GET /api/polls/:id/timeline`: voters over time (empty while the poll hides its turnout). */
export interface TimelineResponse {
  poll_id: string;
  version: number;
  points: TimelinePoint[];
}

// ---- The lunch ritual: catalog, schedules, decisions, visits ------------------------------------------------

const tagSchema = labelSchema.pipe(z.string().max(40));
const urlSchema = z
  .string()
  .trim()
  .max(500)
  .refine((s) => /^https?:\/\/[^\s]+$/.test(s), { message: 'must be an http(s) URL' });

export const catalogMenuInputSchema = z
  .object({ id: idSchema.optional(), name: labelSchema, label_en: labelSchema.optional() })
  .strict();

/** `POST /api/catalog/places` (and each row of a CSV import). */
export const catalogPlaceInputSchema = z
  .object({
    name: labelSchema,
    label_en: labelSchema.optional(),
    tags: z.array(tagSchema).max(20).default([]),
    price: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
    walk_minutes: z.number().int().min(0).max(180).optional(),
    dietary: z.array(tagSchema).max(20).default([]),
    url: urlSchema.optional(),
    active: z.boolean().default(true),
    menus: z.array(catalogMenuInputSchema).max(30).default([]),
    workspace: workspaceSchema.optional(),
  })
  .strict();
export type CatalogPlaceInput = z.infer<typeof catalogPlaceInputSchema>;

/** `PATCH /api/catalog/places/:id`: any field; `null` clears an optional one; `menus` replaces the list. */
export const catalogPlacePatchSchema = z
  .object({
    name: labelSchema,
    label_en: labelSchema.nullable(),
    tags: z.array(tagSchema).max(20),
    price: z.union([z.literal(1), z.literal(2), z.literal(3)]).nullable(),
    walk_minutes: z.number().int().min(0).max(180).nullable(),
    dietary: z.array(tagSchema).max(20),
    url: urlSchema.nullable(),
    active: z.boolean(),
    menus: z.array(catalogMenuInputSchema).max(30),
  })
  .partial()
  .strict();
export type CatalogPlacePatch = z.infer<typeof catalogPlacePatchSchema>;

export interface CatalogMenu {
  id: string;
  name: string;
  label_en?: string;
}
export interface CatalogPlace {
  id: string;
  name: string;
  label_en?: string;
  tags: string[];
  price?: 1 | 2 | 3;
  walk_minutes?: number;
  dietary: string[];
  url?: string;
  active: boolean;
  menus: CatalogMenu[];
}

const hhmmSchema = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be HH:MM (24-hour)');
const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
const timezoneSchema = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return tz.length <= 64;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as Asia/Seoul' },
);

export const destinationSchema = z.discriminatedUnion('platform', [
  z.object({ platform: z.literal('slack'), channel: z.string().regex(/^[A-Z0-9]{1,40}$/) }).strict(),
  z.object({ platform: z.literal('teams'), conversation_id: z.string().min(1).max(300) }).strict(),
  z.object({ platform: z.literal('web') }).strict(),
]);
export type DestinationBody = z.infer<typeof destinationSchema>;

export const placesRuleSchema = z
  .object({
    rule: z.enum(['all', 'random']),
    count: z.number().int().min(2).max(50).optional(),
    exclude_visited_days: z.number().int().min(1).max(60).optional(),
  })
  .strict()
  .refine((r) => r.rule !== 'random' || r.count !== undefined, { message: 'a random rule needs count' });
export type PlacesRule = z.infer<typeof placesRuleSchema>;

const scheduleFields = {
  destination: destinationSchema,
  weekdays: z
    .array(z.number().int().min(1).max(7))
    .min(1)
    .max(7)
    .refine((d) => new Set(d).size === d.length, { message: 'weekdays must not repeat' }),
  open_at: hhmmSchema,
  close_at: hhmmSchema,
  timezone: timezoneSchema,
  skip_dates: z.array(dateSchema).max(366),
  places: placesRuleSchema,
  title: labelSchema,
  anonymous: z.boolean(),
  quorum: z.number().int().min(1).max(10_000).nullable(),
  /** How long a poll below its quorum is extended, once. */
  extend_minutes: z.number().int().min(1).max(240),
  /** Minutes before close for the one reminder in the destination; null: no reminder. */
  reminder_minutes: z.number().int().min(1).max(240).nullable(),
  /** Direct nudges to regulars who have not voted today (off by default). */
  nudges: z.boolean(),
  /** Close as soon as the leader can no longer be caught by the expected voters. */
  early_close: z.boolean(),
  active: z.boolean(),
};

export const createScheduleSchema = z
  .object({
    ...scheduleFields,
    workspace: workspaceSchema.optional(),
    skip_dates: scheduleFields.skip_dates.optional(),
    places: scheduleFields.places.optional(),
    title: scheduleFields.title.optional(),
    anonymous: scheduleFields.anonymous.optional(),
    quorum: scheduleFields.quorum.optional(),
    extend_minutes: scheduleFields.extend_minutes.optional(),
    reminder_minutes: scheduleFields.reminder_minutes.optional(),
    nudges: scheduleFields.nudges.optional(),
    early_close: scheduleFields.early_close.optional(),
    active: scheduleFields.active.optional(),
  })
  .strict()
  .refine((s) => s.open_at < s.close_at, { message: 'open_at must be before close_at', path: ['close_at'] });
export type CreateScheduleBody = z.infer<typeof createScheduleSchema>;

export const patchScheduleSchema = z.object(scheduleFields).partial().strict();
export type PatchScheduleBody = z.infer<typeof patchScheduleSchema>;

export interface Schedule {
  id: string;
  workspace: string;
  destination: DestinationBody;
  weekdays: number[];
  open_at: string;
  close_at: string;
  timezone: string;
  skip_dates: string[];
  places: PlacesRule;
  title: string;
  anonymous: boolean;
  quorum: number | null;
  extend_minutes: number;
  reminder_minutes: number | null;
  nudges: boolean;
  early_close: boolean;
  active: boolean;
  created_at: string;
}

export interface ScheduleResponse {
  schedule: Schedule;
}
export interface ScheduleListResponse {
  schedules: Schedule[];
}
/** `POST /api/schedules/:id/run` */
export interface ScheduleRunResponse {
  poll: Poll;
  /** false when today's poll already existed (a second run the same day). */
  created: boolean;
}
export interface Visit {
  place_id: string | null;
  name: string;
  date: string;
  poll_id: string;
  votes: number;
}
/** `GET /api/visits` */
export interface VisitsResponse {
  visits: Visit[];
  /** Per place of the catalog: wins and days since the last visit (null: never). */
  places: {
    place_id: string;
    name: string;
    wins: number;
    last_visit: string | null;
    days_since: number | null;
  }[];
}
export interface CatalogPlaceResponse {
  place: CatalogPlace;
}
export interface CatalogImportResponse {
  workspace: string;
  created: number;
  updated: number;
}
/** `GET/POST/DELETE /api/polls/:id/headcount`: who is in after the decision. */
export interface HeadcountResponse {
  poll_id: string;
  count: number;
  /** Whether the caller is in (when the call names a voter). */
  me?: boolean;
}
