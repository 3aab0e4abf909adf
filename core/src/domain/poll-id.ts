import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no look-alikes (l/1, o/0): ids get read off a TV

/**
 * A short, URL-safe poll id. A poll page is reachable by anyone who has its link, so the id is the capability:
 * 12 characters of a 32-letter alphabet is 60 random bits (a byte mod 32 is unbiased).
 */
export function newPollId(length = 12): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}
