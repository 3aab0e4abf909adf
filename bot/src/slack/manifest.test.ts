// The manifest users paste into Slack must match what the app handles.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const manifest = readFileSync(new URL('../../../manifests/slack/manifest.yaml', import.meta.url), 'utf8');

describe('manifests/slack/manifest.yaml', () => {
  it('declares the two slash commands the app handles, and sends everything to /slack/events', () => {
    expect([...manifest.matchAll(/- command: (\S+)/g)].map((m) => m[1])).toEqual(['/lunch', '/vote']);
    const urls = [...manifest.matchAll(/(?:url|request_url): (\S+)/g)].map((m) => m[1]);
    expect(urls).toHaveLength(4);
    expect(urls.every((u) => u === 'https://livevote.example.com/slack/events')).toBe(true);
  });

  it('asks for the minimal bot scopes and the one event the app listens to', () => {
    const scopes = [...manifest.slice(manifest.indexOf('bot:')).matchAll(/^\s+- ([a-z:.]+)$/gm)].map(
      (m) => m[1],
    );
    expect(scopes.slice(0, 4)).toEqual(['commands', 'chat:write', 'chat:write.public', 'pins:write']);
    expect(manifest).toMatch(/bot_events:\n\s+- app_home_opened\n/);
    expect(manifest).toMatch(/interactivity:\n\s+is_enabled: true/);
  });
});
