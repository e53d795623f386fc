// Browser test of the live run page, started by web/pages_runs_browser_test.go against a real
// server and a running engine. The run waits for "doc.approved"; this script sends it from
// the events page in a second tab and watches the first tab follow the run to completed
// without reloading.
//
// Env: BASE_URL, RUN_ID, EMAIL, PASSWORD, DOCS_DIR (optional: also write run.png there).
const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);
import path from 'node:path';

const base = need('BASE_URL');
const runID = need('RUN_ID');

const { context, page, close } = await launch({ viewport: { width: 1400, height: 1000 } });
page.on('response', (r) => { if (r.status() >= 500) console.log(`[5xx] ${r.status()} ${r.url()}`); });

const live = page.getByTestId('run-live');
const nodeState = async (id) => page.getByTestId(`graph-node-${id}`).getAttribute('data-state');

try {
  step('sign in');
  await page.goto(`${base}/login`);
  await page.locator('input[name=email]').fill(need('EMAIL'));
  await page.locator('input[name=password]').fill(need('PASSWORD'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('whoami').waitFor();

  step('the runs list shows the waiting run');
  await page.goto(`${base}/admin/runs`);
  const row = page.locator(`[data-testid=run-row][data-run="${runID}"]`);
  await row.waitFor();
  check((await row.getByTestId('run-status').getAttribute('data-status')) === 'waiting', 'list shows the run waiting');
  await shot(page, 'runs-list.png');

  step('open the run: it waits for the approval');
  await row.getByTestId('run-link').click();
  await page.waitForURL(`**/admin/runs/${runID}`);
  await page.locator('[data-testid=run-live][data-live-state=open]').waitFor();
  check((await live.getByTestId('run-status').getAttribute('data-status')) === 'waiting', 'run page shows waiting');
  check((await page.getByTestId('wait-event').textContent()) === 'doc.approved', 'says which event it waits for');
  check((await nodeState('approval')) === 'waiting', 'graph: the wait is waiting');
  check((await nodeState('note')) === 'completed' && (await nodeState('announce')) === 'completed', 'graph: parallel actions done');
  check((await nodeState('publish')) === 'pending', 'graph: publish not yet');
  // Marks that a reload would erase: a window variable, and a step's details opened by hand.
  await page.evaluate(() => { window.__sameDocument = true; });
  await page.locator('[data-testid=step][data-step=note] [data-testid=step-details] summary').click();
  await shot(page, 'run-waiting.png', { fullPage: true });

  step('in a second tab, send the approval from the events page');
  const tab = await context.newPage();
  await tab.goto(`${base}/admin/events`);
  await tab.getByTestId('send-name').fill('doc.approved');
  await tab.getByTestId('send-data').fill('{"id": "oops"');
  await tab.getByTestId('send-submit').click();
  await tab.getByTestId('error-data').waitFor();
  check((await live.getByTestId('run-status').getAttribute('data-status')) === 'waiting', 'bad JSON sent nothing');
  await tab.getByTestId('send-data').fill('{"id": 7}');
  await tab.getByTestId('send-submit').click();
  await tab.getByTestId('sent').waitFor();
  await shot(tab, 'events.png', { fullPage: true });
  await tab.close();

  step('the run page follows the run to completed, without a reload');
  await page.locator('[data-testid=run-live] [data-testid=run-summary] [data-status=completed]').waitFor({ timeout: 20000 });
  check(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded');
  check(Number(await live.getAttribute('data-updates')) >= 2, 'at least two live updates arrived');
  for (const [id, want] of [['approval', 'completed'], ['publish', 'completed'], ['tell', 'completed'], ['remind', 'skipped']]) {
    check((await nodeState(id)) === want, `graph: ${id} is ${want}, not ${await nodeState(id)}`);
  }
  check((await page.getByTestId('step').count()) === 5, 'five steps in the waterfall');
  check(await page.locator('[data-testid=step][data-step=note] details').evaluate((d) => d.open), 'opened details stay open across updates');
  await page.locator('[data-testid=run-live][data-live-state=done]').waitFor();
  await page.locator('[data-testid=step][data-step=approval] [data-testid=step-details] summary').click();
  await shot(page, 'run.png', { fullPage: true });
  if (process.env.DOCS_DIR) await page.screenshot({ path: path.join(process.env.DOCS_DIR, 'run.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'run-phone.png', { fullPage: true });
  await page.setViewportSize({ width: 1400, height: 1000 });

  step('the functions page');
  await page.goto(`${base}/admin/functions`);
  await page.getByTestId('function-table').waitFor();
  await shot(page, 'functions.png', { fullPage: true });
} finally {
  await close();
}
