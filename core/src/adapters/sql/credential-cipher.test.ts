import { describe, expect, it } from 'vitest';
import { CredentialCipher, CredentialCipherError } from './credential-cipher.ts';

const KEY = 'an-encryption-key-of-at-least-32-characters';
const TOKEN = 'xoxb-1111-2222-secretsecret';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof CredentialCipherError ? e.code : `not a cipher error: ${String(e)}`;
  }
  return undefined;
};

/** Flips one bit of one base64url part of a sealed value. */
function flip(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('CredentialCipher (AES-256-GCM at rest)', () => {
  const cipher = new CredentialCipher(KEY);

  it('opens what it sealed, for the same context, and the sealed form shows nothing of the plaintext', () => {
    const sealed = cipher.seal(JSON.stringify({ bot: { token: TOKEN } }), 'slack:T1');
    expect(sealed).not.toContain('xoxb');
    expect(sealed).not.toContain('token');
    expect(sealed.startsWith(`v1.${cipher.keyId}.`)).toBe(true);
    expect(JSON.parse(cipher.open(sealed, 'slack:T1'))).toEqual({ bot: { token: TOKEN } });
  });

  it('seals the same plaintext differently every time (a fresh nonce each)', () => {
    const a = cipher.seal(TOKEN, 'slack:T1');
    const b = cipher.seal(TOKEN, 'slack:T1');
    expect(a).not.toBe(b);
    expect(cipher.open(a, 'slack:T1')).toBe(cipher.open(b, 'slack:T1'));
  });

  it('refuses a changed ciphertext, nonce or tag', () => {
    const sealed = cipher.seal(TOKEN, 'slack:T1');
    for (const part of [2, 3, 4])
      expect(codeOf(() => cipher.open(flip(sealed, part), 'slack:T1'))).toBe('credentials_tampered');
  });

  it('refuses a value moved to another row (the context is authenticated)', () => {
    const sealed = cipher.seal(TOKEN, 'slack:T1');
    expect(codeOf(() => cipher.open(sealed, 'slack:T2'))).toBe('credentials_tampered');
  });

  it('refuses a shortened tag instead of checking fewer bits', () => {
    const parts = cipher.seal(TOKEN, 'slack:T1').split('.');
    parts[3] = Buffer.from(parts[3] ?? '', 'base64url')
      .subarray(0, 4)
      .toString('base64url');
    expect(codeOf(() => cipher.open(parts.join('.'), 'slack:T1'))).toBe('credentials_tampered');
  });

  it('tells a value sealed under another key apart, and that key cannot open it even with our key id', () => {
    const other = new CredentialCipher('another-encryption-key-of-32-characters!');
    expect(other.keyId).not.toBe(cipher.keyId);
    const sealed = other.seal(TOKEN, 'slack:T1');
    expect(codeOf(() => cipher.open(sealed, 'slack:T1'))).toBe('credentials_other_key');
    // Claiming our key id does not help: the key id is authenticated too.
    const forged = sealed.replace(`v1.${other.keyId}.`, `v1.${cipher.keyId}.`);
    expect(codeOf(() => cipher.open(forged, 'slack:T1'))).toBe('credentials_tampered');
  });

  it('refuses what is not a sealed value at all, such as a plaintext token', () => {
    for (const bad of [TOKEN, '', 'v2.a.b.c.d', 'v1.a.b.c', 'v1.a.b.c.d.e', 'v1.a b.c.d.e'])
      expect(codeOf(() => cipher.open(bad, 'slack:T1'))).toBe('credentials_malformed');
  });

  it('derives the same key from the same ENCRYPTION_KEY (every process opens what another sealed)', () => {
    const sealed = cipher.seal(TOKEN, 'slack:T1');
    expect(new CredentialCipher(KEY).open(sealed, 'slack:T1')).toBe(TOKEN);
  });

  it('refuses a key shorter than 32 characters', () => {
    expect(() => new CredentialCipher('short')).toThrow(/at least 32/);
    expect(() => new CredentialCipher(KEY, ['short'])).toThrow(/ENCRYPTION_KEY_PREVIOUS.*at least 32/);
  });

  it('rotates: opens what a previous key sealed, seals only under the current key, and says which is which', () => {
    const previous = new CredentialCipher('the-previous-key-of-at-least-32-characters');
    const old = previous.seal(TOKEN, 'slack:T1');
    const rotated = new CredentialCipher(KEY, ['the-previous-key-of-at-least-32-characters']);
    expect(rotated.keyId).toBe(cipher.keyId);
    expect(rotated.open(old, 'slack:T1')).toBe(TOKEN);
    expect(rotated.isCurrent(old)).toBe(false);
    const fresh = rotated.seal(TOKEN, 'slack:T1');
    expect(rotated.isCurrent(fresh)).toBe(true);
    expect(cipher.open(fresh, 'slack:T1')).toBe(TOKEN); // a process with the new key alone opens it
    expect(codeOf(() => previous.open(fresh, 'slack:T1'))).toBe('credentials_other_key');
    // A previous key opens only what it sealed, bound to its row as ever.
    expect(codeOf(() => rotated.open(old, 'slack:T2'))).toBe('credentials_tampered');
    expect(codeOf(() => rotated.open(flip(old, 4), 'slack:T1'))).toBe('credentials_tampered');
  });
});
