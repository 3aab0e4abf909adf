import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { verifyTabToken } from './tab-auth.ts';

const ours = generateKeyPairSync('rsa', { modulusLength: 2048 });
const theirs = generateKeyPairSync('rsa', { modulusLength: 2048 });
const CLIENT = '00000000-0000-0000-0000-0000000000aa';
const TENANT = '11111111-2222-3333-4444-555555555555';
const pem = (k: typeof ours) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const options = { clientId: CLIENT, publicHost: 'lunch.example.com', signingKey: async () => pem(ours) };

function token(claims: Record<string, unknown> = {}, key = ours, expiresIn = 600) {
  return jwt.sign(
    {
      tid: TENANT,
      oid: 'user-oid',
      aud: CLIENT,
      iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      ...claims,
    },
    key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    { algorithm: 'RS256', keyid: 'k1', expiresIn },
  );
}

describe('the Teams tab sign-on token', () => {
  it('names the tenant and user of a token for our app (v2 and v1 forms)', async () => {
    expect(await verifyTabToken(token(), options)).toEqual({ tenantId: TENANT, userId: 'user-oid' });
    const v1 = token({ aud: `api://lunch.example.com/${CLIENT}`, iss: `https://sts.windows.net/${TENANT}/` });
    expect(await verifyTabToken(v1, options)).toEqual({ tenantId: TENANT, userId: 'user-oid' });
  });

  it('proves nothing when forged, for another app, from another tenant than it claims, or expired', async () => {
    expect(await verifyTabToken(token({}, theirs), options)).toBeNull();
    expect(await verifyTabToken(token({ aud: 'someone-else' }), options)).toBeNull();
    const other = '99999999-2222-3333-4444-555555555555';
    expect(
      await verifyTabToken(token({ iss: `https://login.microsoftonline.com/${other}/v2.0` }), options),
    ).toBeNull();
    expect(await verifyTabToken(token({}, ours, -120), options)).toBeNull();
    expect(await verifyTabToken('a.b.c', options)).toBeNull();
    const none = jwt.sign({ tid: TENANT, oid: 'x', aud: CLIENT }, '', { algorithm: 'none' });
    expect(await verifyTabToken(none, options)).toBeNull();
  });
});
