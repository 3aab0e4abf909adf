// Who gets reminded of a poll, and when: one message in the destination N minutes before close, and (off by
// default) a direct nudge to each regular who has not voted yet. Never twice for the same poll and target.
export const DESTINATION_TARGET = 'destination';

export interface ReminderPlanInput {
  now: Date;
  closesAt: Date;
  /** Minutes before close; null: no reminders at all. */
  reminderMinutes: number | null;
  /** Targets already reminded for this poll ('destination' or voter keys). */
  sent: ReadonlySet<string>;
  nudges: boolean;
  /** Voter keys of the schedule's earlier polls, newest first (today's excluded). */
  earlierPolls: readonly ReadonlySet<string>[];
  votedToday: ReadonlySet<string>;
  optedOut: ReadonlySet<string>;
}

export interface ReminderPlan {
  destination: boolean;
  nudge: string[];
}

/** A regular voted in at least 2 of the last 5 polls. */
export function regulars(earlierPolls: readonly ReadonlySet<string>[]): Set<string> {
  const seen = new Map<string, number>();
  for (const voters of earlierPolls.slice(0, 5)) for (const v of voters) seen.set(v, (seen.get(v) ?? 0) + 1);
  return new Set([...seen].filter(([, n]) => n >= 2).map(([v]) => v));
}

export function planReminders(p: ReminderPlanInput): ReminderPlan {
  const none = { destination: false, nudge: [] };
  if (p.reminderMinutes === null) return none;
  const at = p.closesAt.getTime() - p.reminderMinutes * 60_000;
  if (p.now.getTime() < at || p.now >= p.closesAt) return none;
  const nudge = p.nudges
    ? [...regulars(p.earlierPolls)].filter(
        (v) => !p.votedToday.has(v) && !p.optedOut.has(v) && !p.sent.has(v),
      )
    : [];
  return { destination: !p.sent.has(DESTINATION_TARGET), nudge: nudge.sort() };
}
