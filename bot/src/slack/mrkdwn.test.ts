import { describe, expect, it } from 'vitest';
import { decodeSlackText, escapeMrkdwn } from './mrkdwn.ts';

describe('Slack text', () => {
  it('decodes what Slack escaped, once', () => {
    expect(decodeSlackText('Fish &amp; Chips &lt;3 &gt;')).toBe('Fish & Chips <3 >');
    // someone typed "&lt;" literally: Slack sends "&amp;lt;", which is that text again
    expect(decodeSlackText('&amp;lt;')).toBe('&lt;');
  });

  it('escapes people text so it can never become markup', () => {
    expect(escapeMrkdwn('<!here> Fish & Chips <@U1>')).toBe('&lt;!here&gt; Fish &amp; Chips &lt;@U1&gt;');
    for (const s of ['a & b', '<x>', '&amp;', 'plain']) expect(decodeSlackText(escapeMrkdwn(s))).toBe(s);
  });
});
