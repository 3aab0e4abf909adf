import { describe, expect, it } from 'vitest';
import { parseVoteCommand } from './parse-vote-command.ts';

describe('/vote "Question" "A" "B"', () => {
  it('reads the question and options, smart quotes included', () => {
    expect(parseVoteCommand('"Where?" "Pizza place" "Sushi"')).toEqual({
      ok: true,
      value: { question: 'Where?', options: ['Pizza place', 'Sushi'] },
    });
    expect(parseVoteCommand('“Where?” “A” “B”')).toMatchObject({ ok: true, value: { options: ['A', 'B'] } });
  });

  it('decodes what Slack escaped, so labels are stored as typed', () => {
    expect(parseVoteCommand('"Fish &amp; Chips?" "&lt;b&gt;" "B"')).toMatchObject({
      ok: true,
      value: { question: 'Fish & Chips?', options: ['<b>', 'B'] },
    });
  });

  it('reads the options flags', () => {
    expect(
      parseVoteCommand('"Q" "A" "B" "C" --anonymous --hidden --multi 2 --closes 9:05 --add-options'),
    ).toEqual({
      ok: true,
      value: {
        question: 'Q',
        options: ['A', 'B', 'C'],
        anonymous: true,
        hidden: true,
        multi: 2,
        closes: '09:05',
        addOptions: true,
      },
    });
  });

  it('opens the form for /vote alone', () => {
    expect(parseVoteCommand('  ')).toEqual({ ok: true, value: { modal: true } });
  });

  it('refuses text outside quotes, unknown or bad flags, too few options, and more than 100', () => {
    for (const bad of [
      'Where? A B',
      '"Where?" "A"',
      '"Q" "A" "B" --secret',
      '"Q" "A" "B" --multi 1',
      '"Q" "A" "B" --multi 3',
      '"Q" "A" "B" --closes 25:00',
      '"Q" "A" "B" --closes',
      `"Q" ${Array.from({ length: 101 }, (_, i) => `"${i}"`).join(' ')}`,
    ])
      expect(parseVoteCommand(bad).ok, bad).toBe(false);
  });
});
