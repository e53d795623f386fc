// Builds the workflow editor into one minified JS file and one CSS file.
//
//   npm run build:editor                 -> static/editor/editor.js, editor.css (committed)
//   node web/editor/build.mjs OUT_DIR    -> the same files into OUT_DIR (the Go test compares)
//
// The output must depend only on the source and the locked package versions, so that a
// byte comparison can tell whether the committed bundle is stale: no source maps, no paths,
// no timestamps.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const outdir = path.resolve(process.argv[2] ?? path.join(root, 'static', 'editor'));

await esbuild.build({
  absWorkingDir: root,
  entryPoints: { editor: path.join(here, 'src', 'main.tsx') },
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
console.log(`editor bundle written to ${path.relative(root, outdir) || outdir}`);
