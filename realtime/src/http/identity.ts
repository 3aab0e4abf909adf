// Who is calling: a voter (open mode: emp_no; signed mode: a voter token) or the admin (ADMIN_TOKEN).
import { createHash, timingSafeEqual } from 'node:crypto';
import { empNoSchema, type Voter, verifyVoterToken, webVoter } from '@livevote/core';
import type { Request } from 'express';
import { HttpError } from './errors.ts';

export interface AuthSettings {
  mode: 'open' | 'signed';
  /** HMAC secret for voter tokens; required in signed mode, optional in open mode. */
  secret?: string;
  /** Secrets of before a rotation (AUTH_SECRET_PREVIOUS): tokens they signed are accepted until they expire. */
  previousSecrets?: readonly string[];
  adminToken: string;
}

const first = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : Array.isArray(v) ? first(v[0]) : undefined;

/** What identifying a voter reads of a request: its query and its headers (an Express request, or the fast path's). */
export interface RequestLike {
  query: Record<string, unknown>;
  get(name: string): string | undefined;
}

/** The voter of a request; throws a 401/400 HttpError when there is none or it is malformed. */
export const voterOf = (req: RequestLike, auth: AuthSettings): Voter => identityOf(req, auth).voter;

/**
 * The voter of a request and how they proved it: `signed` when a voter token vouches for them, false for a bare
 * emp_no (open mode), which anyone can type.
 */
export function identityOf(req: RequestLike, auth: AuthSettings): { voter: Voter; signed: boolean } {
  return resolveIdentity(
    {
      token: first(req.query.token) ?? req.get('x-voter-token'),
      empNo: first(req.query.emp_no) ?? req.get('x-emp-no'),
    },
    auth,
  );
}

export const resolveVoter = (
  given: { token?: string | undefined; empNo?: string | undefined },
  auth: AuthSettings,
): Voter => resolveIdentity(given, auth).voter;

function resolveIdentity(
  given: { token?: string | undefined; empNo?: string | undefined },
  auth: AuthSettings,
): { voter: Voter; signed: boolean } {
  if (given.token !== undefined && auth.secret) {
    const v = verifyVoterToken([auth.secret, ...(auth.previousSecrets ?? [])], given.token);
    if (!v.ok) throw new HttpError(401, v.reason, v.message);
    return { voter: v.value, signed: true };
  }
  if (auth.mode === 'signed') {
    throw new HttpError(
      401,
      'missing_token',
      'Open the vote link from Slack or Teams (it carries a signed voter token).',
    );
  }
  if (given.empNo === undefined || given.empNo === '') {
    throw new HttpError(
      401,
      'missing_identity',
      'Say who is voting: ?emp_no=<digits> or the X-Emp-No header.',
    );
  }
  const emp = empNoSchema.safeParse(given.empNo);
  if (!emp.success) throw new HttpError(400, 'invalid_emp_no', 'emp_no must be 1-20 digits.');
  return { voter: webVoter(emp.data), signed: false };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function requireAdmin(req: Request, auth: AuthSettings): void {
  const header = req.get('authorization') ?? '';
  const m = /^Bearer (.+)$/i.exec(header);
  if (!m?.[1]) {
    throw new HttpError(
      401,
      'admin_required',
      'This needs the admin token: Authorization: Bearer <ADMIN_TOKEN>.',
      {
        'WWW-Authenticate': 'Bearer',
      },
    );
  }
  // Compare digests so the comparison takes the same time whatever the length.
  if (!timingSafeEqual(digest(m[1]), digest(auth.adminToken))) {
    throw new HttpError(403, 'forbidden', 'The admin token is not valid.');
  }
}

/** Whether the request carries an admin token; a wrong one is refused (403) rather than treated as none. */
export function isAdmin(req: Request, auth: AuthSettings): boolean {
  if (req.get('authorization') === undefined) return false;
  requireAdmin(req, auth);
  return true;
}
