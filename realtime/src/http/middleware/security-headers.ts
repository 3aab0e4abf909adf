// Security headers on every response, pages and API alike (helmet). The web app's Vite build is one module script
// and one stylesheet from /assets plus an inline SVG favicon (a data: URL), so the policy allows no inline script and
// nothing from elsewhere; its live updates use the WebSocket and EventSource of the same origin ('self'). Nobody may
// frame a page unless FRAME_ANCESTORS names who may (a Teams tab, later).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The headers, worked out once: helmet's answer depends on the configuration only, never on the request, so it is
 * run once against a recorder and every response (the vote fast path's too) gets the same list.
 */
export function securityHeaderList(frameAncestors: readonly string[] = []): readonly [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => void headers.set(name, String(value)),
    removeHeader: (name: string) => void headers.delete(name),
  };
  let finished = false;
  helmetFor(frameAncestors)(
    { headers: {} } as IncomingMessage,
    recorder as unknown as ServerResponse,
    (err?: unknown) => {
      if (err) throw err;
      finished = true;
    },
  );
  if (!finished) throw new Error('helmet did not set its headers synchronously');
  return [...headers];
}

/** Sets the security headers on a response (Express's or a bare one). */
export function setSecurityHeaders(res: ServerResponse, list: readonly [string, string][]): void {
  for (const [name, value] of list) res.setHeader(name, value);
}

export function securityHeaders(list: readonly [string, string][]): RequestHandler {
  return (_req, res, next) => {
    setSecurityHeaders(res, list);
    next();
  };
}

function helmetFor(frameAncestors: readonly string[]) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: frameAncestors.length > 0 ? [...frameAncestors] : ["'none'"],
      },
    },
    // X-Frame-Options knows no allow-list: DENY when nobody may frame us, else left to frame-ancestors (which
    // browsers prefer anyway).
    xFrameOptions: frameAncestors.length > 0 ? false : { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS belongs to whoever terminates TLS; the embedded demo is plain HTTP on a LAN address.
    strictTransportSecurity: false,
  });
}
