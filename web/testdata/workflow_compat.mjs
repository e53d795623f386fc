// Browser test: every workflow-kit example, valid or not, goes through the editor's import
// and export unchanged. Started by web/pages_workflow_browser_test.go, which compares files.
//
// Env: BASE_URL, SESSION_COOKIE, WORKFLOW_ID (an empty workflow), IN_DIR (NN.json files),
// EXPORT_DIR (where NN.json exports go).
const { launch, step, need } = await import(process.env.BROWSER_LIB);
import fs from 'node:fs';
import path from 'node:path';

const base = need('BASE_URL');
const [cookieName, cookieValue] = need('SESSION_COOKIE').split(/=(.*)/s);
const files = fs.readdirSync(need('IN_DIR')).filter((f) => f.endsWith('.json')).sort();
const { context, page, close } = await launch();
try {
  await context.addCookies([{ name: cookieName, value: cookieValue, url: base }]);
  await page.addInitScript(() => {
    window.__exports = [];
    const create = URL.createObjectURL;
    URL.createObjectURL = (blob) => {
      const slot = window.__exports.push(null) - 1;
      blob.text().then((t) => (window.__exports[slot] = t));
      return create(blob);
    };
  });
  await page.goto(`${base}/admin/workflows/${need('WORKFLOW_ID')}/edit`);
  await page.getByTestId('node-$source').waitFor();
  for (const [i, f] of files.entries()) {
    step(`import and export ${f}`);
    await page.getByTestId('import-file').setInputFiles(path.join(need('IN_DIR'), f));
    // Each import is one undoable step: wait for it to land before exporting.
    await page.waitForFunction((n) => document.querySelector('[data-testid="workflow-editor"]').dataset.undoDepth === String(n), i + 1);
    // Read what Export hands to the browser (the Blob behind the download link); one real
    // download is checked by workflow_roundtrip.mjs, and dozens in a row trip Chromium's
    // download throttling.
    await page.getByTestId('export').click();
    const text = await page.waitForFunction((n) => window.__exports.length > n && window.__exports[n], i).then((h) => h.jsonValue());
    fs.writeFileSync(path.join(need('EXPORT_DIR'), f), text);
  }
  console.log(`RESULT ${files.length} files`);
} finally {
  await close();
}
