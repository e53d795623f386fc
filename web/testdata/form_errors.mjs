// Browser test started by web/sideforms_browser_test.go: each refused form, submitted as a
// person would, comes back with its message on that form (not on an error page), on a phone
// and on a laptop.
//
// Env: BASE_URL, ADMIN, PASSWORD, POST_ID.
const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const post = need('POST_ID');
const { context, page, close } = await launch({ viewport: { width: 1280, height: 900 } });

// shownIn checks that the error with testid errorID is visible inside the element matched by
// scope and that the page is not an error page.
async function shownIn(scope, errorID, label) {
  const err = page.locator(scope).getByTestId(errorID);
  await err.first().waitFor();
  check(await err.first().isVisible(), `${label}: message visible on its form`);
  check(!(await page.title()).startsWith('That did not work'), `${label}: not an error page`);
  return (await err.first().textContent()) ?? '';
}

try {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await context.clearCookies();
    step(`${width}px: a wrong password is shown on the sign-in form`);
    await page.goto(`${base}/login`);
    await page.locator('input[name=email]').fill(need('ADMIN'));
    await page.locator('input[name=password]').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shownIn('[data-testid=login-form], main', 'form-error', 'login');
    await page.locator('input[name=password]').fill(need('PASSWORD'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('whoami').waitFor();

    step(`${width}px: a cover that is not an image`);
    await page.goto(`${base}/admin/posts/${post}/edit`);
    await page.getByTestId('cover-section').locator('input[type=file]').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: Buffer.from('<script>alert(1)</script>') });
    await page.getByTestId('cover-section').getByRole('button', { name: 'Upload' }).click();
    check((await shownIn('[data-testid=cover-section]', 'cover-error', 'cover')).includes('PNG'), 'cover message names the types');
    await shot(page, `form-error-cover-${width}.png`);

    step(`${width}px: a schedule in the past`);
    await page.getByTestId('schedule-form').locator('input[name=publish_at]').fill('2001-01-01T10:00');
    await page.getByTestId('schedule-form').getByRole('button', { name: 'Schedule' }).click();
    check((await shownIn('[data-testid=schedule-form]', 'schedule-error', 'schedule')).includes('future'), 'schedule message says future');

    step(`${width}px: demoting the last admin`);
    await page.goto(`${base}/admin/users`);
    const row = page.locator('[data-testid^=user-row-]').first();
    await row.locator('select[name=role]').selectOption('viewer');
    await row.getByRole('button', { name: 'Change' }).click();
    check((await shownIn('[data-testid^=user-row-]', (await row.getAttribute('data-testid')).replace('user-row-', 'user-error-'), 'role')).includes('last enabled admin'), 'last admin message');
    await shot(page, `form-error-role-${width}.png`);

    step(`${width}px: inviting someone who already has an account`);
    await page.getByTestId('invite-form').locator('input[name=email]').fill(need('ADMIN'));
    await page.getByTestId('invite-form').getByRole('button', { name: 'Invite' }).click();
    await shownIn('[data-testid=invite-form]', 'error-email', 'invite');

    step(`${width}px: a site base URL that is not http(s)`);
    await page.goto(`${base}/admin/settings`);
    await page.getByTestId('settings-base-url').fill('ftp://blog.example.com');
    await page.getByTestId('settings-save').click();
    await shownIn('[data-testid=settings-form]', 'error-base_url', 'settings');
  }
  console.log('every refused form showed its message on the form');
} finally {
  await close();
}
