// Compiles the server (server/src/main.ts and the workspace code it imports) into ES modules, dist/server/main.js and
// the chunks it imports lazily beside it, so production runs plain JavaScript without a TypeScript loader in the process.
// npm packages stay imports, resolved from node_modules at run time; the workspace packages export TypeScript
// source and have no build of their own, so they are bundled in.
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT_DIR = `${ROOT}dist/server`;

/** `packages: 'external'` would leave `@livevote/*` as imports too: resolve them through their exports. */
const bundleWorkspace: Plugin = {
  name: 'bundle-workspace',
  setup(b) {
    b.onResolve({ filter: /^@livevote\// }, (args) => ({
      path: fileURLToPath(import.meta.resolve(args.path)),
    }));
  },
};

/**
 * Workspace code finds the files it reads at run time (web/dist, manifests/) relative to its own source file.
 * In the bundle all modules share one import.meta.url, so each module's is replaced by its source file's URL
 * relative to the bundle: the paths stay right wherever dist/ sits beside web/ and manifests/ (checkout or
 * image).
 */
const sourceImportMetaUrl = (outDir: string): Plugin => ({
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const fromBundle = relative(outDir, args.path).split('\\').join('/');
      return {
        contents: source.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`,
        ),
        loader: 'ts',
        resolveDir: dirname(args.path),
      };
    });
  },
});

/** Writes main.js and its source map to outDir; tests build elsewhere so they never touch dist/server. */
export async function buildServer(outDir = OUT_DIR, logLevel: 'info' | 'warning' = 'info'): Promise<string> {
  const outfile = join(outDir, 'main.js');
  await rm(outDir, { recursive: true, force: true }); // chunk names change with their content: no stale ones
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'server/src/main.ts' },
    outdir: outDir,
    // Code imported with import() (the chat apps, which only the bot and all roles load) goes to chunks beside
    // main.js, so its packages are imported only when it is: one file would hoist them to the top.
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    plugins: [bundleWorkspace, sourceImportMetaUrl(outDir)],
    sourcemap: true,
    logLevel,
    metafile: true,
  });
  // A test helper or dev script in the bundle means product code imports one: fail rather than ship it.
  const stray = Object.keys(result.metafile.inputs).filter((f) =>
    /(^|\/)(testing|test|dev)\/|\.test\.ts$/.test(f),
  );
  if (stray.length > 0) throw new Error(`not product code, yet bundled:\n  ${stray.join('\n  ')}`);
  return outfile;
}

// Run as a script (npm run build:server): the production build.
if (process.argv[1] === fileURLToPath(import.meta.url)) await buildServer();
