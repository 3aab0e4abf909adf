import { describe, expect, it } from 'vitest';
import { pageTitle } from './document-title.ts';

describe('page titles', () => {
  it('names the poll and the page, then the app, once', () => {
    expect(pageTitle('Lunch today', 'Board')).toBe('Lunch today · Board — livevote');
    expect(pageTitle(undefined, 'Vote page')).toBe('Vote page — livevote');
    expect(pageTitle('livevote admin')).toBe('livevote admin');
    expect(pageTitle()).toBe('livevote');
  });
});
