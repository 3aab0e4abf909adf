// The new-poll form's checks, run before anything is sent, and the server's refusals in the admin's language.
// Each error names a message key; the form shows it under its field.
import { ApiError } from '../api.ts';
import type { MessageKey } from '../i18n/messages.ts';

export interface PollForm {
  template: 'lunch' | 'choice';
  title: string;
  placesText: string;
  optionsText: string;
  /** datetime-local value (local wall time) or ''. */
  closesAt: string;
  maxChoices: string;
}

/** Field id → what is wrong with it. Ids are the inputs' ids, so the form can focus the first one. */
export type FormErrors = Partial<Record<'title' | 'places' | 'options' | 'closes' | 'max', MessageKey>>;

const LABEL_MAX = 120;

function distinctLines(text: string): { count: number; duplicates: boolean; tooLong: boolean } {
  const names = text
    .split('\n')
    .map((l) => (l.split('|')[0] ?? '').trim())
    .filter(Boolean);
  return {
    count: names.length,
    duplicates: new Set(names.map((n) => n.toLowerCase())).size !== names.length,
    tooLong: names.some((n) => n.length > LABEL_MAX),
  };
}

export function validatePollForm(f: PollForm, now: number): FormErrors {
  const errors: FormErrors = {};
  const title = f.title.trim();
  if ((f.template === 'choice' && !title) || title.length > LABEL_MAX) errors.title = 'errTitle';
  if (f.template === 'lunch') {
    const p = distinctLines(f.placesText);
    if (p.count < 2 || p.duplicates || p.tooLong) errors.places = 'errPlaces';
  } else {
    const o = distinctLines(f.optionsText);
    if (o.count < 2 || o.duplicates || o.tooLong) errors.options = 'errOptions';
  }
  if (f.closesAt) {
    const at = new Date(f.closesAt).getTime();
    if (Number.isNaN(at) || at <= now) errors.closes = 'errClosesPast';
  }
  const max = Number(f.maxChoices);
  if (!Number.isInteger(max) || max < 1 || max > 10) errors.max = 'errMaxChoices';
  return errors;
}

const FIELD_OF: Record<string, MessageKey> = {
  title: 'title',
  options: 'options',
  places: 'places',
  closes_at: 'closesAt',
  max_choices: 'maxChoices',
};

/** A refusal from the server as the admin should read it: a sentence, or the form field to check. */
export function serverErrorText(e: unknown): { key: MessageKey; field?: MessageKey } {
  if (!(e instanceof ApiError)) return { key: 'errUnknown' };
  if (e.status === 0) return { key: 'errNetwork' };
  if (e.status === 401 || e.status === 403) return { key: 'errAdminToken' };
  if (e.status === 429) return { key: 'errRateLimited' };
  if (e.status >= 500) return { key: 'errBusy' };
  if (e.code === 'option_exists') return { key: 'errOptions' };
  // Validation messages start with the field's path ("options: Too small…"); name the field, not the text.
  const path = /^([a-z_]+)/.exec(e.message)?.[1];
  const field = path ? FIELD_OF[path] : undefined;
  return field ? { key: 'errUnknown', field } : { key: 'errUnknown' };
}
