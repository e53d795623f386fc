// Browser test started by web/pages_account_browser_test.go: a person changes their password
// from the account page (reached from their name in the header) and signs in with the new one.
//
// Env: BASE_URL, EMAIL, PASSWORD, NEW_PASSWORD.
const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const { context, page, close } = await launch({ viewport: { width: 390, height: 844 } });

async function signIn(password) {
  await context.clearCookies();
  await page.goto(`${base}/login`);
  await page.locator('input[name=email]').fill(need('EMAIL'));
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

try {
  step('sign in and open the account page from the header');
  await signIn(need('PASSWORD'));
  await page.getByTestId('whoami').click();
  await page.getByTestId('password-form').waitFor();

  step('a wrong current password is refused on the form');
  await page.getByTestId('current-password').fill('not my password');
  await page.getByTestId('new-password').fill(need('NEW_PASSWORD'));
  await page.getByTestId('confirm-password').fill(need('NEW_PASSWORD'));
  await page.getByTestId('change-password').click();
  await page.getByTestId('password-form').getByTestId('error-current_password').waitFor();

  step('the right one changes it');
  await page.getByTestId('current-password').fill(need('PASSWORD'));
  await page.getByTestId('new-password').fill(need('NEW_PASSWORD'));
  await page.getByTestId('confirm-password').fill(need('NEW_PASSWORD'));
  await page.getByTestId('change-password').click();
  await page.getByTestId('notice').filter({ hasText: 'Password changed' }).waitFor();
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot(page, 'account.png');

  step('the old password no longer signs in; the new one does');
  await signIn(need('PASSWORD'));
  await page.getByTestId('form-error').waitFor();
  await signIn(need('NEW_PASSWORD'));
  await page.getByTestId('whoami').waitFor();
  check(page.url().includes('/admin'), 'signed in with the new password');
  console.log('password changed in the browser');
} finally {
  await close();
}
