// Browser test started by web/layout_browser_test.go: every listed page, at 390 and 1280 px,
// must fit the window's width (no sideways scrolling). A failure names the page and the widest
// element and saves a screenshot.
//
// Env: BASE_URL, ADMIN, PASSWORD, PAGES ({"public": [paths], "admin": [paths]}).
const { launch, shot, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const pages = JSON.parse(need('PAGES'));
const widths = [390, 1280];
const { context, page, close } = await launch({ viewport: { width: 1280, height: 900 } });

// overflow reports how far the document is wider than the window, and which element sticks
// out furthest.
async function overflow() {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const extra = doc.scrollWidth - doc.clientWidth;
    let worst = '', right = doc.clientWidth;
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect().right;
      if (r > right + 1) {
        right = r;
        worst = `${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ').join('.') : ''}${el.dataset.testid ? '[' + el.dataset.testid + ']' : ''}`;
      }
    }
    return { extra, worst, right: Math.round(right) };
  });
}

const failures = [];
async function visit(kind, width) {
  for (const path of pages[kind]) {
    await page.goto(base + path);
    await page.waitForLoadState('networkidle').catch(() => {});
    const o = await overflow();
    if (o.extra > 0) {
      const name = `overflow-${kind}-${width}-${failures.length}.png`;
      await shot(page, name, { fullPage: true });
      failures.push(`${path} at ${width}px: ${o.extra}px too wide (widest: ${o.worst}, right edge ${o.right})`);
    }
  }
}

try {
  for (const width of widths) {
    await page.setViewportSize({ width, height: 900 });
    step(`public pages at ${width}px`);
    await context.clearCookies();
    await visit('public', width);
    step(`admin pages at ${width}px`);
    await page.goto(`${base}/login`);
    await page.locator('input[name=email]').fill(need('ADMIN'));
    await page.locator('input[name=password]').fill(need('PASSWORD'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('whoami').waitFor();
    await visit('admin', width);
  }
  if (failures.length) {
    throw new Error('pages scroll sideways:\n' + failures.join('\n'));
  }
  console.log(`all ${widths.length * (pages.public.length + pages.admin.length)} page views fit their window`);
} finally {
  await close();
}
