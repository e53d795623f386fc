// Proves the harness: open a page, click a button whose handler is JavaScript, read the
// changed text, take a screenshot.
const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);

const { page, close } = await launch();
try {
  step('open page');
  await page.goto(need('BASE_URL'));
  await page.getByTestId('go').click();
  const text = await page.getByTestId('status').textContent();
  check(text === 'clicked', `status after click = ${JSON.stringify(text)}`);
  if (process.env.WANT_FAIL) check(false, 'asked to fail');
  await shot(page, 'smoke.png');
  console.log('RESULT ' + text);
} finally {
  await close();
}
