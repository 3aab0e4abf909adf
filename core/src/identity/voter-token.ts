// Signed, expiring voter tokens for AUTH_MODE=signed: `v1.<payload>.<hmac>`, base64url, HMAC-SHA256 with AUTH_SECRET.
// Rotation: tokens are issued under the current secret and verified under it or any previous one
// (AUTH_SECRET_PREVIOUS), so links handed out before a rotation keep working until they expire.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { fail, ok, type Result } from '../domain/result.ts';
import type { Voter } from '../domain/voter.ts';

const payloadSchema = z.object({
  p: z.enum(['web', 'slack', 'teams']),
  t: z.string().max(128),
  u: z.string().min(1).max(128),
  e: z
    .string()
    .regex(/^[0-9]{1,20}$/)
    .optional(),
  /** The workspace the link was issued in (Voter.workspace). */
  w: z.string().min(1).max(200).optional(),
  exp: z.number().int(),
});

const sign = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest('base64url');

export function issueVoterToken(secret: string, voter: Voter, ttlSeconds: number, now = new Date()): string {
  const payload = {
    p: voter.platform,
    t: voter.tenant,
    u: voter.user,
    ...(voter.emp_no ? { e: voter.emp_no } : {}),
    ...(voter.workspace ? { w: voter.workspace } : {}),
    exp: Math.floor(now.getTime() / 1000) + ttlSeconds,
  };
  const body = `v1.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${body}.${sign(secret, body)}`;
}

export function verifyVoterToken(
  /** The current secret, or it first and then the previous ones. */
  secrets: string | readonly string[],
  token: string,
  now = new Date(),
): Result<Voter, 'invalid_token' | 'expired_token'> {
  const parts = token.length <= 2048 ? token.split('.') : [];
  if (parts.length !== 3 || parts[0] !== 'v1') return fail('invalid_token', 'The voter token is malformed.');
  const body = `${parts[0]}.${parts[1]}`;
  const given = Buffer.from(parts[2] ?? '', 'base64url');
  const signedBy = (secret: string) => {
    const expected = Buffer.from(sign(secret, body), 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  if (!(typeof secrets === 'string' ? [secrets] : secrets).some(signedBy)) {
    return fail('invalid_token', 'The voter token signature is not valid.');
  }
  let parsed: z.infer<typeof payloadSchema>;
  try {
    parsed = payloadSchema.parse(JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')));
  } catch {
    return fail('invalid_token', 'The voter token payload is not valid.');
  }
  if (parsed.exp * 1000 <= now.getTime()) return fail('expired_token', 'The voter token has expired.');
  return ok({
    platform: parsed.p,
    tenant: parsed.t,
    user: parsed.u,
    ...(parsed.e ? { emp_no: parsed.e } : {}),
    ...(parsed.w ? { workspace: parsed.w } : {}),
  });
}
