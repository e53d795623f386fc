// Browser test of the workflow editor, started by web/pages_workflow_browser_test.go against a
// real server. It builds a two-action workflow by dragging from the palette, connects it from
// $source, sees the server's validation error on the node (and a refused save), fills the
// input, saves, reloads and finds the same graph.
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

  step('open the editor');
  await page.goto(url);
  await page.getByTestId('node-$source').waitFor();
  check((await page.getByTestId('node-$source').textContent()).includes('blog-post.updated'), '$source shows the trigger event');

  step('search the palette');
  await page.getByTestId('palette-search').fill('sleep');
  check((await page.getByTestId('palette-log').count()) === 0, 'search hides non-matching kinds');
  await page.getByTestId('palette-sleep').waitFor();
  await page.getByTestId('palette-search').fill('');

  step('drag two actions onto the canvas');
  const canvas = page.getByTestId('canvas');
  await page.getByTestId('palette-log').dragTo(canvas, { targetPosition: { x: 300, y: 260 } });
  await page.getByTestId('node-log_1').waitFor();
  await page.getByTestId('palette-sleep').dragTo(canvas, { targetPosition: { x: 300, y: 440 } });
  await page.getByTestId('node-sleep_1').waitFor();

  step('connect $source -> log_1 -> sleep_1 from the handles');
  await connect(page, 'handle-$source-out', 'handle-log_1-in');
  await connect(page, 'handle-log_1-out', 'handle-sleep_1-in');
  await waitCount(page, '.react-flow__edge', 2);

  step('undo and redo the last connection');
  await canvas.click({ position: { x: 40, y: 40 } }); // focus the canvas, not a field
  await page.keyboard.press('Control+z');
  await waitCount(page, '.react-flow__edge', 1);
  await page.keyboard.press('Control+Shift+z');
  await waitCount(page, '.react-flow__edge', 2);

  step('the server marks the log action: its message is required');
  const problem = page.getByTestId('node-log_1').getByTestId('node-problem');
  await problem.first().waitFor();
  check(/message/i.test(await problem.first().textContent()), 'problem names the input');
  await shot(page, 'editor-invalid.png');

  step('save is refused while invalid');
  await page.getByTestId('save').click();
  await page.getByTestId('status').filter({ hasText: 'Not saved' }).waitFor();

  step('delete a third node with the keyboard, undo, redo');
  await page.getByTestId('palette-log').dragTo(canvas, { targetPosition: { x: 620, y: 260 } });
  await page.getByTestId('node-log_2').waitFor();
  await page.getByTestId('node-log_2').click();
  const before = await page.getByTestId('node-log_2').boundingBox();
  await page.keyboard.press('Delete');
  await waitCount(page, '[data-testid="node-log_2"]', 0);
  await page.keyboard.press('Control+z');
  await page.getByTestId('node-log_2').waitFor();
  const after = await page.getByTestId('node-log_2').boundingBox();
  check(Math.abs(before.x - after.x) < 2 && Math.abs(before.y - after.y) < 2, 'undo puts the deleted node back where it was');
  await page.keyboard.press('Control+Shift+z');
  await waitCount(page, '[data-testid="node-log_2"]', 0);

  step('fill the inputs in the side panel');
  await page.getByTestId('node-log_1').click();
  await page.getByTestId('action-panel').waitFor();
  await page.getByTestId('input-message').fill('Post ');
  await page.getByTestId('input-message-ref').selectOption('!ref($.event.data.id)');
  check((await page.getByTestId('input-message').inputValue()) === 'Post !ref($.event.data.id)', 'ref picker appends the ref');
  await page.getByTestId('input-level').selectOption('warn');
  await page.getByTestId('node-sleep_1').click();
  await page.getByTestId('input-duration').fill('1h30m');
  await waitCount(page, '[data-testid="node-problem"]', 0);

  step('auto-layout puts each action below its parent');
  await page.getByTestId('layout').click();
  await page.waitForFunction(() => {
    const y = (id) => document.querySelector(`[data-testid="node-${id}"]`).getBoundingClientRect().y;
    return y('$source') < y('log_1') && y('log_1') < y('sleep_1');
  });

  step('save');
  await page.getByTestId('save').click();
  await page.getByTestId('status').filter({ hasText: 'Saved' }).waitFor();
  check((await page.getByTestId('workflow-editor').getAttribute('data-dirty')) === 'false', 'nothing left unsaved');

  step('reload and find the same graph');
  await page.reload();
  await page.getByTestId('node-sleep_1').waitFor();
  await page.getByTestId('node-log_1').click();
  check((await page.getByTestId('input-message').inputValue()) === 'Post !ref($.event.data.id)', 'message kept');
  check((await page.getByTestId('input-level').inputValue()) === 'warn', 'level kept');
  check((await page.locator('.react-flow__edge').count()) === 2, 'edges kept');
  await shot(page, 'editor.png');

  step('enable the workflow and start a test run');
  await page.getByTestId('enabled').click(); // checked once the server confirms
  await page.getByTestId('status').filter({ hasText: 'Enabled' }).waitFor();
  await page.getByTestId('test-run').click();
  await page.getByTestId('test-run-data').fill(JSON.stringify({ id: Number(process.env.POST_ID) }));
  await page.getByTestId('test-run-send').click();
  await page.waitForURL(/\/admin\/runs\/[^/]+$/);
  console.log('RUN ' + decodeURIComponent(new URL(page.url()).pathname.split('/').pop()));
  console.log('RESULT ok');
} finally {
  await close();
}

// connect drags from one handle to another with the mouse, as a user does.
async function connect(page, from, to) {
  const a = await page.getByTestId(from).boundingBox();
  const b = await page.getByTestId(to).boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}

// waitCount waits until the CSS selector matches n elements.
async function waitCount(page, css, n) {
  await page.waitForFunction(([c, k]) => document.querySelectorAll(c).length === k, [css, n], { timeout: 10000 });
}
