// The manifest users paste into Slack must match what the app handles, in HTTP and in socket mode.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manifestBotScopes, slackManifest } from './manifest.ts';

const manifest = readFileSync(new URL('../../../manifests/slack/manifest.yaml', import.meta.url), 'utf8');

interface Manifest {
  features: { slash_commands: { command: string; url?: string }[] };
  oauth_config: { redirect_urls: string[]; scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url?: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url?: string };
    socket_mode_enabled: boolean;
  };
}

describe('manifests/slack/manifest.yaml', () => {
  it('declares the two slash commands the app handles, and sends everything to /slack/events', () => {
    expect([...manifest.matchAll(/- command: (\S+)/g)].map((m) => m[1])).toEqual(['/lunch', '/vote']);
    const urls = [...manifest.matchAll(/(?:url|request_url): (\S+)/g)].map((m) => m[1]);
    expect(urls).toHaveLength(4);
    expect(urls.every((u) => u === 'https://livevote.example.com/slack/events')).toBe(true);
  });

  it('asks for the minimal bot scopes and the events the app listens to', () => {
    const m = parse(manifest) as Manifest;
    expect(m.oauth_config.scopes.bot.slice(0, 4)).toEqual([
      'commands',
      'chat:write',
      'chat:write.public',
      'pins:write',
    ]);
    // App Home, and the two events that make an OAuth install forget a workspace.
    expect(m.settings.event_subscriptions.bot_events).toEqual(
      expect.arrayContaining(['app_home_opened', 'app_uninstalled', 'tokens_revoked']),
    );
    expect(m.settings.interactivity.is_enabled).toBe(true);
    expect(m.settings.socket_mode_enabled).toBe(false);
  });

  it('sends an installing browser back to /slack/oauth_redirect', () => {
    expect((parse(manifest) as Manifest).oauth_config.redirect_urls).toEqual([
      'https://livevote.example.com/slack/oauth_redirect',
    ]);
  });
});

describe('slackManifest (npm run slack:manifest)', () => {
  it('HTTP mode: every URL on PUBLIC_URL, socket mode off', () => {
    const text = slackManifest({ publicUrl: 'https://vote.acme.test/', socketMode: false });
    expect(text).not.toContain('livevote.example.com');
    const m = parse(text) as Manifest;
    expect(m.settings.socket_mode_enabled).toBe(false);
    expect(m.settings.event_subscriptions.request_url).toBe('https://vote.acme.test/slack/events');
    expect(m.settings.interactivity.request_url).toBe('https://vote.acme.test/slack/events');
    expect(m.features.slash_commands.map((c) => c.url)).toEqual([
      'https://vote.acme.test/slack/events',
      'https://vote.acme.test/slack/events',
    ]);
    expect(m.oauth_config.redirect_urls).toEqual(['https://vote.acme.test/slack/oauth_redirect']);
  });

  it('socket mode: socket mode on and no request URL anywhere, but the same commands, events and redirect', () => {
    const text = slackManifest({ publicUrl: 'https://vote.acme.test', socketMode: true });
    const m = parse(text) as Manifest;
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(text).not.toContain('/slack/events');
    expect(m.settings.event_subscriptions.request_url).toBeUndefined();
    expect(m.settings.interactivity).toEqual({ is_enabled: true });
    expect(m.features.slash_commands.map((c) => [c.command, c.url])).toEqual([
      ['/lunch', undefined],
      ['/vote', undefined],
    ]);
    expect(m.settings.event_subscriptions.bot_events).toEqual(
      (parse(manifest) as Manifest).settings.event_subscriptions.bot_events,
    );
    expect(m.oauth_config.redirect_urls).toEqual(['https://vote.acme.test/slack/oauth_redirect']);
  });

  it('gives the OAuth install the bot scopes of the manifest', () => {
    expect(manifestBotScopes()).toEqual((parse(manifest) as Manifest).oauth_config.scopes.bot);
  });
});
