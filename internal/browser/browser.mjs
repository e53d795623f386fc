// Shared helpers for browser test scripts, started by Go's browser.Run.
//
//   const { launch, shot, check } = await import(process.env.BROWSER_LIB);
//   const { page, close } = await launch();
//   try { ...; await shot(page, 'editor.png'); } finally { await close(); }
//
// Any uncaught error exits non-zero, which fails the Go test with this script's output.
import { chromium } from 'playwright-core';
import path from 'node:path';

// Flags for a quiet, hermetic headless Chromium: no sandbox (CI runs as root), no GPU, no
// network of its own (updates, sync, QUIC), no first-run UI.
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// launch starts Chromium with the fresh profile Go made for this run and returns one page.
// Page errors and console errors are printed, so a failing test shows what the page said.
export async function launch({ viewport = { width: 1400, height: 900 } } = {}) {
  const context = await chromium.launchPersistentContext(need('USER_DATA_DIR'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
    viewport,
  });
  context.setDefaultTimeout(15000);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => console.log(`[pageerror] ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`[console.error] ${msg.text()}`);
  });
  return { context, page, close: () => context.close() };
}

// shot saves a PNG of the page into the calling package's testdata/out/ and returns its path.
export async function shot(page, name, opts = {}) {
  const file = path.join(need('OUT_DIR'), name);
  await page.screenshot({ path: file, ...opts });
  console.log(`screenshot: ${file}`);
  return file;
}

// check throws with msg when cond is false.
export function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

// step logs a line, so a failure's output shows how far the script got.
export function step(msg) {
  console.log(`- ${msg}`);
}

// need returns an environment variable or throws naming it.
export function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}
