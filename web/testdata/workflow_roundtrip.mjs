// Browser test: a workflow-kit workflow goes through the editor without losing anything.
// Started by web/pages_workflow_browser_test.go, which compares the files and the stored JSON.
//
// Env: BASE_URL, SESSION_COOKIE, EDIT_ID (a workflow seeded with FIXTURE), IMPORT_ID (an empty
// workflow), FIXTURE (path of the workflow-kit JSON), OUT_DIR.
const { launch, shot, step, need, check } = await import(process.env.BROWSER_LIB);
import path from 'node:path';

const base = need('BASE_URL');
const [cookieName, cookieValue] = need('SESSION_COOKIE').split(/=(.*)/s);
const { context, page, close } = await launch();
try {
  await context.addCookies([{ name: cookieName, value: cookieValue, url: base }]);

  step('export the seeded workflow untouched');
  await page.goto(`${base}/admin/workflows/${need('EDIT_ID')}/edit`);
  await page.getByTestId('node-tell').waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
  await download.saveAs(path.join(need('OUT_DIR'), 'roundtrip-export.json'));

  step('rename one action');
  await page.getByTestId('node-say').click();
  await page.getByTestId('action-name').fill('Say hi');

  step('make the say -> tell edge match "warn" instead of "info"');
  await page.getByTestId('rf__edge-e3:say->tell').click();
  await page.getByTestId('edge-panel').waitFor();
  check((await page.getByTestId('edge-type').inputValue()) === 'match', 'edge panel shows the match condition');
  await page.getByTestId('edge-value').fill('warn');
  step('save');
  await page.getByTestId('node-say').click();
  await page.getByTestId('save').click();
  await page.getByTestId('status').filter({ hasText: 'Saved' }).waitFor();
  await shot(page, 'editor-roundtrip.png');

  step('restore version 1 from the version list (not saved)');
  await page.getByTestId('versions').click();
  await page.getByTestId('restore-1').click();
  await page.getByTestId('node-say').filter({ hasText: 'Say hello' }).waitFor();
  check((await page.getByTestId('workflow-editor').getAttribute('data-dirty')) === 'true', 'restored graph is unsaved');
  page.once('dialog', (d) => d.accept()); // leaving with unsaved changes asks first

  step('import the file into an empty workflow and save');
  await page.goto(`${base}/admin/workflows/${need('IMPORT_ID')}/edit`);
  await page.getByTestId('node-$source').waitFor();
  await page.getByTestId('import-file').setInputFiles(need('FIXTURE'));
  await page.getByTestId('node-tell').waitFor();
  await page.getByTestId('save').click();
  await page.getByTestId('status').filter({ hasText: 'Saved' }).waitFor();
  console.log('RESULT ok');
} finally {
  await close();
}
