// Browser test started by web/firstrun_browser_test.go: a fresh install from the empty home
// page to the first published post, with the site renamed on the way; the post's page and
// the feed carry the new title. Screenshots of the new pages go to testdata/out/.
//
// Env: BASE_URL.
const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const { page, close } = await launch({ viewport: { width: 1280, height: 900 } });
page.on('response', (r) => { if (r.status() >= 500) console.log(`[5xx] ${r.status()} ${r.url()}`); });

try {
  step('the empty home page leads to setup');
  await page.goto(base + '/');
  await shot(page, 'home-fresh.png');
  await page.getByTestId('setup-link').getByRole('link').click();
  await page.getByTestId('setup-form').waitFor();

  step('create the first admin');
  await page.locator('input[name=name]').fill('Ada Lovelace');
  await page.locator('input[name=email]').fill('ada@example.com');
  await page.locator('input[name=password]').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create admin' }).click();
  await page.getByTestId('whoami').waitFor();

  step('name the site in Settings');
  await page.getByTestId('admin-nav').getByRole('link', { name: 'Settings' }).click();
  await page.getByTestId('settings-title').fill('Field Notes');
  await page.getByTestId('settings-description').fill('Notes on durable software.');
  await page.getByTestId('settings-time-zone').fill('Europe/Paris');
  await page.getByTestId('settings-save').click();
  await page.getByTestId('notice').filter({ hasText: 'Site settings saved' }).waitFor();
  check((await page.locator('a.brand').textContent()) === 'Field Notes', 'the header shows the new title');
  await shot(page, 'settings.png');

  step('write and publish the first post');
  await page.goto(base + '/admin/posts/new');
  await page.getByTestId('title').fill('Hello from Field Notes');
  await page.getByTestId('markdown').fill('# Hello\n\nOur first post.\n\n```go\nfunc main() { println("hi") }\n```\n');
  await page.getByTestId('save').click();
  await page.getByTestId('notice').filter({ hasText: 'Post created' }).waitFor();
  await page.getByTestId('action-publish').click();
  await page.getByTestId('notice').filter({ hasText: 'Published' }).waitFor();

  step('the public page and the feed carry the site title');
  await page.getByTestId('view-public').click();
  await page.getByTestId('post-title').waitFor();
  check((await page.title()) === 'Hello from Field Notes · Field Notes', `page title: ${await page.title()}`);
  const og = await page.locator('meta[property="og:site_name"]').getAttribute('content');
  check(og === 'Field Notes', `og:site_name: ${og}`);
  check((await page.getByTestId('post-author').textContent()) === 'By Ada Lovelace', 'author shown');
  check((await page.locator('.chroma .kd').first().textContent()) === 'func', 'code highlighted');
  await shot(page, 'post-public.png', { fullPage: true });
  const feed = await (await page.request.get(base + '/feed.xml')).text();
  check(feed.includes('<title>Field Notes</title>'), 'feed title');
  check(feed.includes('<description>Notes on durable software.</description>'), 'feed description');
  check(feed.includes('<title>Hello from Field Notes</title>'), 'feed item');
  await page.goto(base + '/');
  await shot(page, 'home.png');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'home-phone.png', { fullPage: true });
  console.log('first start to first published post works');
} finally {
  await close();
}
