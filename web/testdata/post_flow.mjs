// Browser test of the post's life, started by web/pages_browser_test.go against a real server
// and engine: write -> review -> approve -> publish -> read.
//
// Env: BASE_URL, EDITOR, APPROVER, PASSWORD.
const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const password = need('PASSWORD');
const phone = { width: 390, height: 844 };
const laptop = { width: 1400, height: 900 };

const { context, page, close } = await launch({ viewport: laptop });
page.on('response', (r) => { if (r.status() >= 500) console.log(`[5xx] ${r.status()} ${r.url()}`); });

async function signIn(email) {
  await context.clearCookies();
  await page.goto(`${base}/login`);
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('whoami').waitFor();
}

async function text(testid) {
  return (await page.getByTestId(testid).first().textContent()) ?? '';
}

try {
  step('the sign-in page');
  await page.goto(`${base}/login`);
  await shot(page, 'login.png');

  step('the editor signs in and writes a post');
  await signIn(need('EDITOR'));
  await page.getByTestId('new-post').first().click();
  await page.getByTestId('title').fill('A quick test post');
  await page.getByTestId('markdown').fill('# Hello\n\nThis is teh quick brown fox, written with *care*.\n\n- one\n- two\n');
  step('the live preview renders the markdown on the server');
  await page.getByTestId('preview').locator('h1', { hasText: 'Hello' }).waitFor();
  await page.getByTestId('preview').locator('em', { hasText: 'care' }).waitFor();
  await shot(page, 'editor-new.png');
  await page.getByTestId('save').click();
  await page.getByTestId('notice').waitFor();
  check((await text('notice')).includes('Post created'), 'created notice');

  step('autosave keeps typing safe');
  const md = page.getByTestId('markdown');
  await md.press('Control+End');
  await md.type('\nAn extra line.');
  await page.getByTestId('save-state').filter({ hasText: 'Saved at' }).waitFor();
  const editURL = page.url().replace(/\?.*$/, '');

  step('send to review: the review run starts and waits for approval');
  await page.getByTestId('action-review').click();
  await page.getByTestId('notice').filter({ hasText: 'Sent to review' }).waitFor();
  await page.getByTestId('run-status').filter({ hasText: 'waiting' }).waitFor({ timeout: 20000 });
  await shot(page, 'editor-in-review.png', { fullPage: true });
  await page.setViewportSize(phone);
  await shot(page, 'editor-phone.png', { fullPage: true });
  await page.setViewportSize(laptop);

  step('the approver opens the review page and sees the word diff');
  await signIn(need('APPROVER'));
  await page.goto(editURL.replace(/\/edit$/, '/review'));
  const diff = page.getByTestId('diff');
  await diff.waitFor();
  check((await diff.locator('del').first().textContent()) === 'teh', 'diff deletes "teh"');
  check((await diff.locator('ins').first().textContent()) === 'the', 'diff inserts "the"');
  check((await page.getByTestId('grammar-change').count()) === 1, 'one grammar change listed');
  check((await text('social-post')).includes('A quick test post'), 'social suggestion shown');
  check((await text('ai-provider')).includes('offline'), 'offline provider labelled');
  await shot(page, 'review.png', { fullPage: true });
  await page.setViewportSize(phone);
  await shot(page, 'review-phone.png', { fullPage: true });
  await page.setViewportSize(laptop);

  step('approve: the run continues and completes');
  await page.getByTestId('approve').click();
  await page.getByTestId('notice').filter({ hasText: 'Approved' }).waitFor();
  await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: 20000 });
  await shot(page, 'review-approved.png', { fullPage: true });

  step('publish');
  await page.goto(editURL);
  check((await page.getByTestId('markdown').inputValue()).includes('the quick brown fox'), 'AI copy applied');
  await page.getByTestId('action-publish').click();
  await page.getByTestId('notice').filter({ hasText: 'Published' }).waitFor();

  step('the public page shows the corrected post');
  await page.getByTestId('view-public').click();
  await page.getByTestId('post-title').waitFor();
  const body = await text('post-body');
  check(body.includes('the quick brown fox') && !body.includes('teh'), 'public body is corrected');
  check((await page.title()).startsWith('A quick test post'), 'page title');
  await shot(page, 'public-post.png', { fullPage: true });
  await page.setViewportSize(phone);
  await shot(page, 'public-post-phone.png', { fullPage: true });
  await page.goto(`${base}/`);
  await page.getByTestId('post-item').first().waitFor();
  await shot(page, 'blog-index-phone.png', { fullPage: true });
  await page.setViewportSize(laptop);
  await shot(page, 'blog-index.png', { fullPage: true });
  await page.goto(`${base}/admin`);
  await shot(page, 'dashboard.png', { fullPage: true });
  step('done');
} finally {
  await close();
}
