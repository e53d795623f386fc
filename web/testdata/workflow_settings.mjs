// Browser test of the editor's Settings panel, started by
// web/pages_workflow_settings_browser_test.go against a real server: set a debounce and a
// concurrency limit, add a second trigger with a condition, see an invalid CEL key refused
// naming its field (as it is typed, and on save), fix it, save, reload and find the settings.
//
// Env: BASE_URL, WORKFLOW_ID, SESSION_COOKIE ("name=value").
const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const id = need('WORKFLOW_ID');
const [cookieName, cookieValue] = need('SESSION_COOKIE').split(/=(.*)/s);

const { context, page, close } = await launch();
try {
  await context.addCookies([{ name: cookieName, value: cookieValue, url: base }]);
  const url = `${base}/admin/workflows/${id}/edit`;

  step('open the Settings panel');
  await page.goto(url);
  await page.getByTestId('node-$source').waitFor();
  await page.getByTestId('open-settings').click();
  await page.getByTestId('settings-panel').waitFor();
  check((await page.getByTestId('trigger-0-event').inputValue()) === 'blog-post.updated', 'the first trigger is the toolbar one');

  step('the editor offers a debounce on blog-post.updated');
  await page.getByTestId('debounce-suggest').click();
  check((await page.getByTestId('cfg-debounce-period').inputValue()) === '30s', 'the suggestion fills the period');
  check((await page.getByTestId('cfg-debounce-key').inputValue()) === 'event.data.id', 'and keys it by post');
  await page.getByTestId('cfg-debounce-period').fill('45s');

  step('set a concurrency limit with an invalid key: refused naming the field, as it is typed');
  await page.getByTestId('cfg-concurrency-0-limit').fill('2');
  await page.getByTestId('cfg-concurrency-0-key').fill('event.data.id +');
  const keyProblem = page.locator('[data-testid="settings-problem"][data-field="config.concurrency[0].key"]');
  await keyProblem.waitFor();
  check((await keyProblem.textContent()).includes('config.concurrency[0].key'), 'the message names the field');
  await shot(page, 'editor-settings-invalid.png');

  step('save is refused while the key is invalid');
  await page.getByTestId('save').click();
  await page.getByTestId('status').filter({ hasText: 'config.concurrency[0].key' }).waitFor();

  step('fix the key and add a second trigger with a condition');
  await page.getByTestId('cfg-concurrency-0-key').fill('event.data.id');
  await keyProblem.waitFor({ state: 'detached' });
  await page.getByTestId('trigger-add').click();
  await page.getByTestId('trigger-1-event').fill('blog-post.published');
  await page.getByTestId('trigger-1-if').fill('event.data.id > 0');

  step('save');
  await page.getByTestId('save').click();
  await page.getByTestId('status').filter({ hasText: 'Saved' }).waitFor();

  step('reload and find the settings');
  await page.reload();
  await page.getByTestId('node-$source').waitFor();
  await page.getByTestId('open-settings').click();
  await page.getByTestId('settings-panel').waitFor();
  check((await page.getByTestId('cfg-debounce-period').inputValue()) === '45s', 'debounce period kept');
  check((await page.getByTestId('cfg-debounce-key').inputValue()) === 'event.data.id', 'debounce key kept');
  check((await page.getByTestId('cfg-concurrency-0-limit').inputValue()) === '2', 'concurrency limit kept');
  check((await page.getByTestId('cfg-concurrency-0-key').inputValue()) === 'event.data.id', 'concurrency key kept');
  check((await page.getByTestId('trigger-1-if').inputValue()) === 'event.data.id > 0', 'second trigger kept');
  check((await page.getByTestId('open-settings').textContent()).includes('2 triggers'), 'the toolbar counts the triggers');
  await shot(page, 'editor-settings.png');
  console.log('RESULT ok');
} finally {
  await close();
}
