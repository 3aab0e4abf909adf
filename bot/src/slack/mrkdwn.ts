// Slack text in both directions. Slack escapes &, < and > in what people type (slash command text arrives as
// `Fish &amp; Chips`), and reads them as markup in what we send (`<!here>` would notify a channel). So: decode
// what comes in once, store it as typed, and escape every piece of people's text we put into mrkdwn.

/** `&lt;` `&gt;` `&amp;` as Slack sends them → the characters typed. `&amp;lt;` stays `&lt;` (typed literally). */
export function decodeSlackText(s: string): string {
  return s.replace(/&(lt|gt|amp);/g, (_, e: string) => (e === 'lt' ? '<' : e === 'gt' ? '>' : '&'));
}

/** People's text → safe inside mrkdwn: no links, mentions or broadcasts (`<!here>`), shown exactly as typed. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
