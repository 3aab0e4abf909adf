import { describe, expect, it } from 'vitest';
import { ApiError } from '../api.ts';
import { messages } from '../i18n/messages.ts';
import { type PollForm, serverErrorText, validatePollForm } from './poll-form.ts';

const NOW = new Date('2026-12-01T11:00').getTime();
const form = (f: Partial<PollForm>): PollForm => ({
  template: 'choice',
  title: 'Team dinner',
  placesText: '',
  optionsText: 'BBQ\nPizza',
  closesAt: '',
  maxChoices: '1',
  ...f,
});

describe('the new-poll form', () => {
  it('accepts a sound poll and refuses a close time in the past before anything is sent', () => {
    expect(validatePollForm(form({}), NOW)).toEqual({});
    expect(validatePollForm(form({ closesAt: '2026-12-01T12:30' }), NOW)).toEqual({});
    expect(validatePollForm(form({ closesAt: '2026-12-01T10:59' }), NOW)).toEqual({
      closes: 'errClosesPast',
    });
  });

  it('names each field that is wrong', () => {
    expect(validatePollForm(form({ title: ' ', optionsText: 'BBQ', maxChoices: '0' }), NOW)).toEqual({
      title: 'errTitle',
      options: 'errOptions',
      max: 'errMaxChoices',
    });
    expect(validatePollForm(form({ optionsText: 'BBQ\nbbq' }), NOW)).toEqual({ options: 'errOptions' });
    expect(
      validatePollForm(form({ template: 'lunch', title: '', placesText: '본죽 | Bonjuk | 전복죽' }), NOW),
    ).toEqual({ places: 'errPlaces' });
    expect(
      validatePollForm(form({ template: 'lunch', title: '', placesText: '본죽 | Bonjuk\n명동교자' }), NOW),
    ).toEqual({});
  });

  it('shows a refusal from the server in words, never the validator text', () => {
    const raw = new ApiError(400, 'invalid_body', 'options: Too small: expected array to have >=2 items');
    expect(serverErrorText(raw)).toEqual({ key: 'errUnknown', field: 'options' });
    expect(serverErrorText(new ApiError(401, 'admin_required', 'Admin token required.'))).toEqual({
      key: 'errAdminToken',
    });
    expect(serverErrorText(new ApiError(0, 'network', 'x'))).toEqual({ key: 'errNetwork' });
    for (const lang of ['ko', 'en'] as const) {
      expect(messages[lang].errField).toContain('{field}');
      expect(messages[lang].errClosesPast.length).toBeGreaterThan(10);
    }
  });
});
