// Encryption at rest for chat credentials (an installation's bot token): AES-256-GCM under a key derived from
// ENCRYPTION_KEY, which never lives in the database. A sealed value names the key it was sealed under (an id that
// reveals nothing of it) and is bound to the row it belongs to, so one moved to another workspace's row, edited, or
// opened under another key is refused instead of handing out a token.
//
// Form: `v1.<key id>.<iv>.<tag>.<ciphertext>`, base64url parts; the version, key id and context are authenticated.
//
// Rotation: a cipher seals under its current key and opens under it or any previous key it was given
// (ENCRYPTION_KEY_PREVIOUS); the key id says which. Values under a previous key are sealed again under the current
// one as they are read, or all at once (`livevote reseal-credentials`), after which the previous key can go.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** Shortest accepted ENCRYPTION_KEY (characters). */
export const ENCRYPTION_KEY_MIN_LENGTH = 32;

const VERSION = 'v1';
const IV_BYTES = 12; // GCM's standard nonce: random per seal, so one key can seal far more values than we ever will
const TAG_BYTES = 16;
const PART = /^[A-Za-z0-9_-]*$/;

export type CredentialCipherErrorCode =
  /** Not a sealed value of ours (or a future version): nothing to try. */
  | 'credentials_malformed'
  /** Sealed under another ENCRYPTION_KEY: set the key it was sealed with, or install again. */
  | 'credentials_other_key'
  /** The key matches but the value was changed, or belongs to another row. */
  | 'credentials_tampered';

export class CredentialCipherError extends Error {
  constructor(
    readonly code: CredentialCipherErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialCipherError';
  }
}

/** The AES key derived from an ENCRYPTION_KEY, and its id. */
function deriveKey(encryptionKey: string, name: string): { key: Buffer; id: string } {
  if (encryptionKey.length < ENCRYPTION_KEY_MIN_LENGTH)
    throw new Error(`${name} must be at least ${ENCRYPTION_KEY_MIN_LENGTH} characters`);
  // HKDF, not a password hash: the key is meant to be random (openssl rand -base64 32), and this keeps the AES key
  // apart from any other use the same secret might be put to.
  const key = Buffer.from(
    hkdfSync('sha256', encryptionKey, 'livevote', 'livevote/credentials-at-rest/v1', 32),
  );
  return { key, id: createHmac('sha256', key).update('key id').digest('base64url').slice(0, 8) };
}

export class CredentialCipher {
  private readonly key: Buffer;
  /** Names the key without revealing it: tells "sealed under another key" apart from "tampered with". */
  readonly keyId: string;
  /** Every key this cipher opens with, by id: the current one and the previous ones. */
  private readonly keys = new Map<string, Buffer>();

  constructor(encryptionKey: string, previousKeys: readonly string[] = []) {
    const current = deriveKey(encryptionKey, 'ENCRYPTION_KEY');
    this.key = current.key;
    this.keyId = current.id;
    for (const k of previousKeys) {
      const prev = deriveKey(k, 'every ENCRYPTION_KEY_PREVIOUS key');
      if (prev.id !== this.keyId) this.keys.set(prev.id, prev.key);
    }
    this.keys.set(this.keyId, this.key);
  }

  /** True when the value was sealed under the current key (false: a previous key's, or not ours at all). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`${VERSION}.${this.keyId}.`);
  }

  /** Seals `plaintext` for the row named by `context` (e.g. the workspace id): only that context opens it. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(this.aad(this.keyId, context));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.keyId, iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The plaintext of a sealed value; throws a CredentialCipherError when it cannot be trusted. */
  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    const [version, keyId, iv, tag, data] = parts;
    if (
      parts.length !== 5 ||
      version !== VERSION ||
      keyId === undefined ||
      iv === undefined ||
      tag === undefined ||
      data === undefined ||
      !parts.every((p) => PART.test(p))
    )
      throw new CredentialCipherError('credentials_malformed', 'stored credentials are not a sealed value');
    const key = this.keys.get(keyId);
    if (!key)
      throw new CredentialCipherError(
        'credentials_other_key',
        'stored credentials were sealed under another ENCRYPTION_KEY',
      );
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES)
      throw new CredentialCipherError('credentials_tampered', 'stored credentials were changed');
    const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
    decipher.setAAD(this.aad(keyId, context));
    decipher.setAuthTag(tagBytes);
    try {
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new CredentialCipherError(
        'credentials_tampered',
        'stored credentials were changed or belong to another row',
      );
    }
  }

  private aad(keyId: string, context: string): Buffer {
    return Buffer.from(`${VERSION}.${keyId}.${context}`, 'utf8');
  }
}
