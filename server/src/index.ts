export * from './config.ts';
export * from './start.ts';
