// What the HTTP edge is built from.
import type { Core, LunchDestinations } from '@livevote/core';
import type { Hub } from '../fanout/hub.ts';
import type { AddressLimits } from '../limits.ts';
import type { AuthSettings } from './identity.ts';
import type { Logger } from './logger.ts';

export interface HttpDeps {
  core: Core;
  auth: AuthSettings;
  log: Logger;
  /** Largest JSON body accepted. */
  bodyLimit?: string;
  /** The fan-out hub; when given, SSE is served at /api/polls/:id/events. */
  hub?: Hub;
  /** The built web app (web/dist); when given, it is served with the SPA's routes. */
  webDist?: string;
  /** More routes on the same server (the chat endpoints), mounted before the API's 404. */
  routers?: import('express').Router[];
  /** The audit/archive store (MongoDB); its state shows in /readyz but never makes the instance unready. */
  archive?: { ping(): Promise<void> };
  /** Prometheus exposition for GET /metrics. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Limits per client address (poll creation here; connections in the WebSocket gateway); absent: none. */
  limits?: AddressLimits;
  /** How many proxies in front may name the client in X-Forwarded-For (Express's numeric `trust proxy`). */
  trustProxy?: number;
  /** Who may frame our pages (CSP frame-ancestors sources, e.g. a Teams tab's hosts); none when empty or absent. */
  frameAncestors?: readonly string[];
  /** The process's log of failed store calls (one per process, shared with the other edges); else one of our own. */
  storeErrors?: { report(err: unknown, what: string): boolean };
  /** Where `POST /api/schedules/:id/run` posts (the chat adapters' destinations); absent: web-only destinations. */
  destinations?: LunchDestinations;
  /** The time zone "days since the last visit" is counted in (LUNCH_TIMEZONE); absent: the server's. */
  lunchTimezone?: string;
}
