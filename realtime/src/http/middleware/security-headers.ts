// Security headers on every response, pages and API alike (helmet). The web app's Vite build is one module script
// and one stylesheet from /assets plus an inline SVG favicon (a data: URL), so the policy allows no inline script and
// nothing from elsewhere; its live updates use the WebSocket and EventSource of the same origin ('self'). Nobody may
// frame a page unless FRAME_ANCESTORS names who may (a Teams tab, later).
import type { RequestHandler } from 'express';
import helmet from 'helmet';

export function securityHeaders(frameAncestors: readonly string[] = []): RequestHandler {
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
