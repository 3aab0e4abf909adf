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

  it('refuses text outside quotes, too few options, and more than 100', () => {
    expect(parseVoteCommand('Where? A B').ok).toBe(false);
    expect(parseVoteCommand('"Where?" "A"').ok).toBe(false);
    expect(parseVoteCommand(`"Q" ${Array.from({ length: 101 }, (_, i) => `"${i}"`).join(' ')}`).ok).toBe(
      false,
    );
  });
});
