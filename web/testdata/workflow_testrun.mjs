// Browser test: "Test run" on a workflow opens the run it started. Env: BASE_URL,
// SESSION_COOKIE, WORKFLOW_ID. Prints "RUN <id>".
const { launch, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const [cookieName, cookieValue] = need('SESSION_COOKIE').split(/=(.*)/s);
const { context, page, close } = await launch();
try {
  await context.addCookies([{ name: cookieName, value: cookieValue, url: base }]);
  await page.goto(`${base}/admin/workflows/${need('WORKFLOW_ID')}/edit`);
  await page.getByTestId('node-$source').waitFor();
  step('test run');
  await page.getByTestId('test-run').click();
  await page.getByTestId('test-run-send').click();
  await page.waitForURL(/\/admin\/runs\/[^/]+$/);
  console.log('RUN ' + decodeURIComponent(new URL(page.url()).pathname.split('/').pop()));
} finally {
  await close();
}
