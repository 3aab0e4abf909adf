// A per-address limit on a route: over it, 429 {error: {code: 'rate_limited'}} with Retry-After in whole seconds.
import { type RateLimit, retryAfterSeconds } from '@livevote/core';
import type { RequestHandler } from 'express';
import { addressKey, clientAddress } from '../../limits.ts';
import { sendError } from '../errors.ts';

export function addressLimit(
  limit: RateLimit | undefined,
  trustedProxies: number,
  what: string,
): RequestHandler {
  return (req, res, next) => {
    if (!limit) return next();
    limit.take(addressKey(clientAddress(req, trustedProxies))).then((admitted) => {
      if (admitted.ok) return next();
      const seconds = retryAfterSeconds(admitted.retryAfterMs);
      res.set('Retry-After', String(seconds));
      sendError(res, 429, 'rate_limited', `Too many ${what} from this address; try again in ${seconds} s.`);
    }, next);
  };
}
