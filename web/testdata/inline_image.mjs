// Browser test started by web/uploads_browser_test.go: an image pasted into the markdown, one
// dropped on it and one chosen with "Add image" are uploaded and inserted as markdown; the live
// preview shows them; a file that is not an image is refused with a message by the text.
//
// Env: BASE_URL, EMAIL, PASSWORD, POST_ID.
const { launch, shot, check, step, need } = await import(process.env.BROWSER_LIB);

const base = need('BASE_URL');
const { page, close } = await launch({ viewport: { width: 1280, height: 900 } });
// A 1x1 PNG.
const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

// fire sends a paste or drop event carrying one file, as the browser does for a real one.
async function fire(kind, name, base64, type) {
  await page.evaluate(({ kind, name, base64, type }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type }));
    const area = document.getElementById('markdown');
    area.focus();
    area.selectionStart = area.selectionEnd = area.value.length;
    const ev = kind === 'paste'
      ? new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true })
      : new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
    area.dispatchEvent(ev);
  }, { kind, name, base64, type });
}

async function images() {
  return (await page.getByTestId('markdown').inputValue()).match(/!\[[^\]]*\]\(\/uploads\/[a-f0-9]{32}\.png\)/g) ?? [];
}

try {
  step('sign in and open the post');
  await page.goto(`${base}/login`);
  await page.locator('input[name=email]').fill(need('EMAIL'));
  await page.locator('input[name=password]').fill(need('PASSWORD'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('whoami').waitFor();
  await page.goto(`${base}/admin/posts/${need('POST_ID')}/edit`);

  step('paste an image');
  await fire('paste', 'image.png', png, 'image/png');
  await page.getByTestId('image-status').filter({ hasText: 'Image added' }).waitFor();
  check((await images()).length === 1, 'pasted image inserted as markdown');
  await page.getByTestId('preview').locator('img[src^="/uploads/"]').first().waitFor();

  step('drop an image');
  await fire('drop', 'diagram.png', png, 'image/png');
  await page.waitForFunction(() => (document.getElementById('markdown').value.match(/\/uploads\//g) || []).length === 2);
  check((await page.getByTestId('markdown').inputValue()).includes('![diagram]('), 'the dropped file name is the alt text');

  step('choose one with the button');
  await page.locator('#image-picker').setInputFiles({ name: 'chosen.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64') });
  await page.waitForFunction(() => (document.getElementById('markdown').value.match(/\/uploads\//g) || []).length === 3);

  step('a file that only claims to be an image is refused by the text');
  await fire('paste', 'evil.png', btoa('<script>alert(1)</script>'), 'image/png');
  await page.getByTestId('image-status').filter({ hasText: 'Image not added' }).waitFor();
  check((await images()).length === 3, 'nothing inserted for the refused file');

  step('the images are served and saved with the post');
  const src = await page.getByTestId('preview').locator('img[src^="/uploads/"]').first().getAttribute('src');
  const res = await page.request.get(base + src);
  check(res.status() === 200 && res.headers()['content-type'] === 'image/png', 'uploaded image is served as a PNG');
  await page.getByTestId('save-state').filter({ hasText: 'Saved at' }).waitFor({ timeout: 20000 });
  await shot(page, 'editor-inline-image.png');
  console.log('inline images work');
} finally {
  await close();
}
