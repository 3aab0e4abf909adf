// The Socket.IO baseline as plain JavaScript (dist/bench/socketio-server.mjs, esbuild, packages left as imports),
// so it runs without a TypeScript loader, as livevote's compiled bundle does: neither side pays for tsx in memory
// or CPU.
import { build } from 'esbuild';
import { ROOT } from './instances.ts';

export const BASELINE_JS = `${ROOT}dist/bench/socketio-server.mjs`;

export async function buildBaseline(): Promise<string> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['bench/lib/socketio-server.ts'],
    outfile: BASELINE_JS,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  return BASELINE_JS;
}
