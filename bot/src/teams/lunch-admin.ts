// Teams `lunch places` and `lunch schedule`: the workspace's catalog and this conversation's schedule as text, and
// setting the schedule from one line. The core catalog and schedule use cases do the work.

import { type Core, createSchedule, listCatalog, updateSchedule } from '@livevote/core';
import type { CatalogPlace, Schedule } from '@livevote/core/protocol';
import { createScheduleSchema } from '@livevote/core/protocol';
import { lunchEditRefusal } from '../lunch/lunch-editors.ts';
import type { TeamsCommand } from './parse-teams-command.ts';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function placesText(places: CatalogPlace[], publicUrl: string): string {
  if (places.length === 0) return 'No lunch places yet.';
  const lines = places.map(
    (p) =>
      `- ${p.active ? '' : '~~'}**${p.name}**${p.label_en ? ` (${p.label_en})` : ''}${p.active ? '' : '~~ (inactive)'}${p.menus.length ? `: ${p.menus.map((m) => m.name).join(', ')}` : ''}`,
  );
  return `**Lunch places**\n\n${lines.join('\n')}\n\nEdit them in the web admin: ${publicUrl}/admin`;
}

export function teamsScheduleText(s: Schedule | undefined): string {
  if (!s)
    return 'This conversation has no lunch schedule. Set one: **lunch schedule 11:30-12:30 mon-fri Asia/Seoul**';
  const places = s.places.rule === 'random' ? `${s.places.count} random places` : 'all active places';
  const reminder =
    s.reminder_minutes === null ? 'no reminder' : `a reminder ${s.reminder_minutes} min before close`;
  return `**${s.title}**${s.active ? '' : ' (paused)'} on ${s.weekdays.map((d) => DAYS[d - 1]).join(' ')}, ${s.open_at}–${s.close_at} (${s.timezone}): ${places}, ${reminder}.`;
}

/** The answer to `lunch places` / `lunch schedule …` in a conversation of `workspace`. */
export async function lunchAdminAnswer(
  core: Core,
  o: {
    workspace: string;
    conversation: string;
    timezone: string;
    publicUrl: string;
    /** Whether this person may change the schedule (lunch-editors.ts); reading it is for everyone. */
    mayEdit: () => Promise<boolean>;
    /** Why someone may not, when it is not only their role (the bot cannot ask Graph). */
    refusal?: string;
  },
  cmd: Extract<TeamsCommand, { kind: 'places' | 'schedule' }>,
): Promise<string> {
  if (cmd.kind === 'places') return placesText(await listCatalog(core, o.workspace), o.publicUrl);
  const current = (await core.lunch.schedules(o.workspace)).find(
    (s) => s.destination.platform === 'teams' && s.destination.conversation_id === o.conversation,
  );
  if (!cmd.set) return teamsScheduleText(current);
  if (!(await o.mayEdit())) return `⚠️ ${o.refusal ?? lunchEditRefusal('owners of this team or chat')}`;
  const body = createScheduleSchema.safeParse({
    workspace: o.workspace,
    destination: { platform: 'teams', conversation_id: o.conversation },
    timezone: o.timezone,
    ...cmd.set,
  });
  if (!body.success) {
    const issue = body.error.issues[0];
    return `⚠️ ${issue?.path.join('.') || 'schedule'} ${issue?.message ?? 'is not valid'}.`;
  }
  const { workspace: _w, ...spec } = body.data;
  const r = current
    ? await updateSchedule(core, current.id, {
        open_at: spec.open_at,
        close_at: spec.close_at,
        weekdays: spec.weekdays,
        timezone: spec.timezone,
      })
    : await createSchedule(core, body.data);
  return r.ok ? `✅ ${teamsScheduleText(r.value)}` : `⚠️ ${r.message}`;
}
