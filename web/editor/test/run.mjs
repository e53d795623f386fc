// Runs the editor's unit tests: bundles test/*.test.ts with esbuild into a temp folder (or
// OUT_DIR) and runs them with node's test runner. `npm run test:editor`; Go runs it too
// (static/editor/bundle_test.go).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'editor-test-'));
const entries = fs.readdirSync(here).filter((f) => f.endsWith('.test.ts')).map((f) => path.join(here, f));
await esbuild.build({ entryPoints: entries, outdir: out, bundle: true, platform: 'node', format: 'esm', outExtension: { '.js': '.mjs' }, logLevel: 'warning' });
const files = fs.readdirSync(out).filter((f) => f.endsWith('.test.mjs')).map((f) => path.join(out, f));
const r = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
