export * from './fanout/hub.ts';
export * from './fanout/prepared-frame.ts';
export * from './fanout/snapshot-frames.ts';
export * from './http/app.ts';
export * from './http/errors.ts';
export * from './http/identity.ts';
export * from './limits.ts';
export * from './ws/ws-gateway.ts';
