// Browser test of "New workflow" and the editor's palette, started by
// web/pages_workflow_browser_test.go (TestWorkflowGalleryPaletteAndDeleteInBrowser) against a
// real server with the blog's kinds. An admin picks the editorial review template from the
// gallery, finds it in the editor with arrowheads on its edges, searches the grouped palette
// and adds actions with Enter and a double-click (each connected below the one before), sees a
// refused save turn the status bar red and the bar clear once the problem is fixed, saves, and
// finally deletes the workflow.
//
// Env: BASE_URL, SESSION_COOKIE ("name=value"); DOCS_DIR (optional) gets editor.png.
import path from 'node:path';

const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const [cookieName, cookieValue] = need('SESSION_COOKIE').split(/=(.*)/s);

const { context, page, close } = await launch();
try {
  await context.addCookies([{ name: cookieName, value: cookieValue, url: base }]);

  step('the gallery on "New workflow" offers the four templates');
  await page.goto(`${base}/admin/workflows`);
  for (const id of ['review-flow', 'social-posts', 'weekly-report', 'failure-alert']) {
    await page.getByTestId(`template-${id}`).waitFor();
  }
  await shot(page, 'workflow-gallery.png', { fullPage: true });
  if (process.env.DOCS_DIR) await page.getByTestId('template-gallery').screenshot({ path: path.join(process.env.DOCS_DIR, 'workflow-gallery.png') });
  await page.getByTestId('use-template-review-flow').click();
  await page.waitForURL(/\/admin\/workflows\/\d+\/edit$/);
  const id = new URL(page.url()).pathname.split('/')[3];
  console.log('WORKFLOW ' + id);

  step('the template opens in the editor: four actions, four edges, each with an arrowhead');
  for (const a of ['toc', 'grammar', 'approval', 'apply']) await page.getByTestId(`node-${a}`).waitFor();
  await waitCount(page, '.react-flow__edge', 4);
  check((await page.locator('.react-flow__edge path[marker-end]').count()) === 4, 'every edge ends in an arrowhead');
  check((await page.getByTestId('node-approval').textContent()).includes('Wait for approval'), 'the approval step is labelled "Wait for approval"');

  step('the palette is grouped by category');
  for (const g of ['Flow', 'AI', 'Review', 'Send and connect', 'Data']) await page.getByTestId(`palette-group-${g}`).waitFor();
  check((await page.getByTestId('palette-group-Review').getByTestId('palette-wait_for_approval').count()) === 1, 'wait_for_approval is under Review');
  check((await page.getByTestId('palette-group-AI').getByTestId('palette-grammar_review').count()) === 1, 'grammar_review is under AI');

  step('search the palette and add the match with Enter: connected below the last action');
  await page.getByTestId('palette-search').fill('server log');
  await waitCount(page, '[data-testid^="palette-group-"]', 1);
  check((await page.getByTestId('palette-sleep').count()) === 0, 'search hides what does not match');
  await page.getByTestId('palette-search').press('Enter');
  await page.getByTestId('node-log_1').waitFor();
  await waitCount(page, '.react-flow__edge', 5);
  await page.getByTestId('rf__edge-e4:apply->log_1').waitFor({ state: 'attached' });
  const apply = await page.getByTestId('node-apply').boundingBox();
  const log1 = await page.getByTestId('node-log_1').boundingBox();
  check(log1.y > apply.y + apply.height, 'the new action is placed below the one it follows');

  step('double-click adds the next one below the selected action, connected to it');
  await page.getByTestId('palette-search').fill('');
  await page.getByTestId('palette-sleep').dblclick();
  await page.getByTestId('node-sleep_1').waitFor();
  await page.getByTestId('rf__edge-e5:log_1->sleep_1').waitFor({ state: 'attached' });

  step('a problem on a node takes one line: the node never grows over the one below');
  const problem = page.getByTestId('node-log_1').getByTestId('node-problem');
  await problem.waitFor();
  const bad = await page.getByTestId('node-log_1').boundingBox();
  const grammar = await page.getByTestId('node-grammar').boundingBox(); // valid, same width
  const sleep1 = await page.getByTestId('node-sleep_1').boundingBox();
  check(bad.height <= grammar.height + 24, `an invalid node is at most one line taller (${bad.height} vs ${grammar.height})`);
  check(bad.y + bad.height < sleep1.y, 'the invalid node ends above the node below it');

  step('a refused save turns the status bar red');
  await page.getByTestId('save').click();
  await page.locator('[data-testid="status"].wf-status-bad').filter({ hasText: 'Not saved' }).waitFor();

  step('fixing the problems clears the red status bar');
  await page.getByTestId('node-log_1').click();
  await page.getByTestId('input-message').fill('Reviewed post !ref($.event.data.id)');
  await page.getByTestId('node-sleep_1').click();
  await page.getByTestId('input-duration').fill('1h');
  await waitCount(page, '[data-testid="node-problem"]', 0);
  await page.waitForFunction(() => !document.querySelector('[data-testid="status"]').classList.contains('wf-status-bad'), null, { timeout: 10000 });

  step('save');
  await page.getByTestId('save').click();
  await page.getByTestId('status').filter({ hasText: 'Saved as version 2' }).waitFor();
  await page.getByTestId('layout').click();
  await page.waitForTimeout(400); // let the fit-view animation end before the picture
  await shot(page, 'editor-gallery.png');
  if (process.env.DOCS_DIR) await page.screenshot({ path: path.join(process.env.DOCS_DIR, 'editor.png') });
  console.log('SAVED');

  step('dragging from the palette near the canvas edge pans the canvas');
  const viewport = () => page.locator('.react-flow__viewport').getAttribute('style');
  const before = await viewport();
  const box = await page.getByTestId('canvas').boundingBox();
  const item = await page.getByTestId('palette-log').boundingBox();
  await page.mouse.move(item.x + item.width / 2, item.y + item.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 8 });
  for (let i = 0; i < 12; i++) await page.mouse.move(box.x + box.width / 2 + (i % 2), box.y + box.height - 6, { steps: 2 });
  const during = await viewport();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  check(during !== before, `the canvas panned while the drag was at its edge (${before} -> ${during})`);
  await page.getByTestId('node-log_2').waitFor();

  step('delete the workflow from the editor (its unsaved change too)');
  page.once('dialog', (d) => d.accept());
  await page.getByTestId('delete-workflow').click();
  await page.waitForURL(/\/admin\/workflows\?done=workflow-deleted$/);
  check((await page.getByTestId('notice').textContent()).includes('Workflow deleted'), 'the list says the workflow was deleted');
  check((await page.getByTestId(`workflow-${id}`).count()) === 0, 'the deleted workflow is no longer listed');
  console.log('RESULT ok');
} finally {
  await close();
}

// waitCount waits until the CSS selector matches n elements.
async function waitCount(page, css, n) {
  await page.waitForFunction(([c, k]) => document.querySelectorAll(c).length === k, [css, n], { timeout: 10000 });
}
