// The Slack app manifest (manifests/slack/manifest.yaml) filled in for this deployment, and the bot scopes the OAuth
// install asks for: read from the same file, so what an install grants is what the manifest declares.
import { readFileSync } from 'node:fs';
import { isMap, isSeq, parse, parseDocument } from 'yaml';

const FILE = new URL('../../../manifests/slack/manifest.yaml', import.meta.url);
/** The stand-in for PUBLIC_URL in the committed manifest. */
export const MANIFEST_PLACEHOLDER_URL = 'https://livevote.example.com';

export interface ManifestOptions {
  /** PUBLIC_URL: where Slack sends requests and the installing browser. */
  publicUrl: string;
  /** SLACK_APP_TOKEN is set: events arrive over a socket we open, so Slack has no request URL to call. */
  socketMode: boolean;
}

export function slackManifest(o: ManifestOptions): string {
  const publicUrl = o.publicUrl.replace(/\/+$/, '');
  // The file's opening comment explains the placeholder; the filled-in copy says what it was made for instead.
  const body = readFileSync(FILE, 'utf8')
    .replace(/^(#.*\n)+/, '')
    .replaceAll(MANIFEST_PLACEHOLDER_URL, publicUrl);
  const header = `# livevote's Slack app manifest for ${publicUrl} (${o.socketMode ? 'socket mode' : 'HTTP'}): paste it at api.slack.com/apps.\n`;
  const text = header + body;
  if (!o.socketMode) return text;
  // Socket mode: Slack delivers events, commands and interactivity over the socket and wants no request URLs.
  // The OAuth redirect stays: an install still comes back to us through the browser.
  const doc = parseDocument(text);
  doc.setIn(['settings', 'socket_mode_enabled'], true);
  doc.deleteIn(['settings', 'event_subscriptions', 'request_url']);
  doc.deleteIn(['settings', 'interactivity', 'request_url']);
  const commands = doc.getIn(['features', 'slash_commands']);
  if (isSeq(commands)) for (const c of commands.items) if (isMap(c)) c.delete('url');
  return doc.toString({ lineWidth: 0 });
}

let scopes: string[] | undefined;

/** The bot scopes the manifest declares: what /slack/install asks a workspace to grant. */
export function manifestBotScopes(): string[] {
  if (scopes) return scopes;
  const m = parse(readFileSync(FILE, 'utf8')) as { oauth_config?: { scopes?: { bot?: unknown } } };
  const bot = m.oauth_config?.scopes?.bot;
  if (!Array.isArray(bot) || bot.length === 0 || !bot.every((s) => typeof s === 'string'))
    throw new Error('manifests/slack/manifest.yaml declares no oauth_config.scopes.bot');
  scopes = bot;
  return bot;
}
