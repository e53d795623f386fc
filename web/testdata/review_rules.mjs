// Browser test of the review rules, started by web/review_browser_test.go against a real
// server, engine and review workflow (AI faked by an in-test OpenAI-compatible server).
//
// Env: BASE_URL, EDITOR, APPROVER, PASSWORD, REVIEWED, CANCELLED, PUBLISHED, PUBLISHED_SLUG.
const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const password = need('PASSWORD');
const { context, page, close } = await launch();
page.on('response', (r) => { if (r.status() >= 500) console.log(`[5xx] ${r.status()} ${r.url()}`); });

async function signIn(email) {
  await context.clearCookies();
  await page.goto(`${base}/login`);
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('whoami').waitFor();
}

try {
  step('the editor sends the post to review');
  await signIn(need('EDITOR'));
  await page.goto(`${base}/admin/posts/${need('REVIEWED')}/edit`);
  await page.getByTestId('action-review').click();
  await page.getByTestId('notice').filter({ hasText: 'Sent to review' }).waitFor();
  await page.getByTestId('in-review').waitFor();
  // The AI works, then the run waits for an approver: the page follows without a reload.
  await page.locator('[data-testid=review-state][data-status=needs_approval]').waitFor({ timeout: 30000 });

  step('an edit during review is refused, with the offer to withdraw');
  await page.getByTestId('markdown').fill('Rewritten while in review.');
  await page.getByTestId('save').click();
  await page.getByTestId('action-withdraw').waitFor();
  const body = (await page.locator('main').textContent()) ?? '';
  check(body.includes('withdraw it from review'), 'the refusal says to withdraw the post first');
  await shot(page, 'review-edit-refused.png');

  step('the approver finds the post in the queue');
  await signIn(need('APPROVER'));
  check(((await page.getByTestId('review-count').textContent()) ?? '').trim() === '1', 'the navigation counts one post to review');
  await page.getByTestId('nav-review').click();
  const item = page.getByTestId('queue-item').filter({ hasText: 'Three mistakes' });
  await item.waitFor();
  check(((await item.getByTestId('queue-sent-by').textContent()) ?? '').includes(need('EDITOR')), 'the queue says who sent it');
  await shot(page, 'review-queue.png');
  await item.getByTestId('queue-open').click();

  step('accept two of three grammar changes, reject the table of contents, approve');
  check((await page.getByTestId('grammar-change').count()) === 3, 'three grammar changes listed');
  await page.getByTestId('accept-change-2').uncheck();
  await page.getByTestId('accept-toc').uncheck();
  await page.getByTestId('comment').fill('Keep "recieve" for now; no contents list.');
  await shot(page, 'review-decision.png', { fullPage: true });
  await page.getByTestId('approve').click();
  await page.getByTestId('notice').filter({ hasText: 'Approved' }).waitFor();

  step('a cancelled review run puts its post back to draft, saying why');
  await signIn(need('EDITOR'));
  await page.goto(`${base}/admin/posts/${need('CANCELLED')}/edit`);
  const ended = page.getByTestId('review-ended');
  await ended.waitFor();
  check(((await ended.textContent()) ?? '').includes('cancelled'), 'the reason is shown');
  check((await page.getByTestId('review-run').count()) === 1, 'the run is linked');
  await shot(page, 'review-cancelled.png');

  step('editing a published post leaves the public page unchanged');
  await page.goto(`${base}/admin/posts/${need('PUBLISHED')}/edit`);
  await page.getByTestId('markdown').fill('The published words, updated.');
  await page.getByTestId('save').click();
  await page.getByTestId('pending-update').waitFor();
  await page.goto(`${base}/posts/${need('PUBLISHED_SLUG')}`);
  let pub = (await page.locator('body').textContent()) ?? '';
  check(pub.includes('The published words.') && !pub.includes('updated'), 'the public page still shows the published text');

  step('an approver publishes the update');
  await signIn(need('APPROVER'));
  await page.goto(`${base}/admin/posts/${need('PUBLISHED')}/edit`);
  await page.getByTestId('action-publish').click();
  await page.goto(`${base}/posts/${need('PUBLISHED_SLUG')}`);
  pub = (await page.locator('body').textContent()) ?? '';
  check(pub.includes('The published words, updated.'), 'the public page shows the published update');
  console.log('RESULT ok');
} finally {
  await close();
}
