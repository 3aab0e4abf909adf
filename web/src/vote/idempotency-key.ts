// The Idempotency-Key of one tap. crypto.randomUUID exists only in secure contexts (https, localhost): a phone that
// opens the vote page at http://<office host>:5000 has none, and every tap failed before it was sent.
// crypto.getRandomValues is there in every context: 128 random bits, as hex.
export function newIdempotencyKey(c: Pick<Crypto, 'getRandomValues'> = globalThis.crypto): string {
  const bytes = c.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
