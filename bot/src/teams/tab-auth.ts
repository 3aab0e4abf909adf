// Who is asking, inside a Teams tab: the Teams single sign-on token (microsoftTeams.authentication.getAuthToken())
// is a Microsoft Entra ID token for our app, naming the user's tenant. Checked like any bearer token: signature against
// Microsoft's published keys, our app as audience, an issuer of the tenant it names, not expired.
import jwt from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';

const MICROSOFT_KEYS = 'https://login.microsoftonline.com/common/discovery/v2.0/keys';

export interface TabIdentity {
  tenantId: string;
  /** The user's Entra object id. */
  userId: string;
}

export interface TabTokenOptions {
  clientId: string;
  /** The public host the app is served from: the v1 audience is `api://<host>/<client id>`. */
  publicHost: string;
  /** The public key (PEM) for a token's key id; default: Microsoft's published keys, cached. */
  signingKey?: (kid: string | undefined) => Promise<string>;
}

export function microsoftSigningKeys(): (kid: string | undefined) => Promise<string> {
  const client = new JwksClient({ jwksUri: MICROSOFT_KEYS, cache: true, rateLimit: true, timeout: 5_000 });
  return async (kid) => (await client.getSigningKey(kid)).getPublicKey();
}

/** The identity a Teams SSO token proves, or null when it proves nothing (forged, expired, someone else's app). */
export async function verifyTabToken(token: string, o: TabTokenOptions): Promise<TabIdentity | null> {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object') return null;
  const tid = decoded.payload.tid;
  if (typeof tid !== 'string' || !/^[0-9a-f-]{36}$/i.test(tid)) return null;
  try {
    const key = await (o.signingKey ?? microsoftSigningKeys())(decoded.header.kid);
    const claims = jwt.verify(token, key, {
      algorithms: ['RS256'],
      audience: [o.clientId, `api://${o.publicHost}/${o.clientId}`],
      // v2 and v1 tokens name the tenant in their issuer; it must be the tenant the token says.
      issuer: [`https://login.microsoftonline.com/${tid}/v2.0`, `https://sts.windows.net/${tid}/`],
      clockTolerance: 60,
    });
    if (typeof claims !== 'object' || typeof claims.oid !== 'string') return null;
    return { tenantId: tid, userId: claims.oid };
  } catch {
    return null;
  }
}
