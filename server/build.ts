// Compiles the server (server/src/main.ts and the workspace code it imports) into one ES module,
// dist/server/main.js, so production runs plain JavaScript without a TypeScript loader in the process.
// npm packages stay imports, resolved from node_modules at run time; the workspace packages export TypeScript
// source and have no build of their own, so they are bundled in.
import { readFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
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
const sourceImportMetaUrl: Plugin = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const fromBundle = relative(OUT_DIR, args.path).split('\\').join('/');
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
};

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ['server/src/main.ts'],
  outfile: `${OUT_DIR}/main.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  plugins: [bundleWorkspace, sourceImportMetaUrl],
  sourcemap: true,
  logLevel: 'info',
  metafile: true,
});

// A test helper or dev script in the bundle means product code imports one: fail rather than ship it.
const stray = Object.keys(result.metafile.inputs).filter((f) =>
  /(^|\/)(testing|test|dev)\/|\.test\.ts$/.test(f),
);
if (stray.length > 0) {
  console.error(`not product code, yet bundled:\n  ${stray.join('\n  ')}`);
  process.exit(1);
}
