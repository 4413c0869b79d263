import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { repoRoot } from '../../local/stack';
import { expectAccessible } from '../helpers/axe';
import { focused, tabTo } from '../helpers/keyboard';
import { type LaunchedStack, launchStack } from '../helpers/launcher';

/**
 * The web app in a real browser (Debian's Chromium driven by playwright-core), against
 * the whole stack started the way `npm start` starts it, on free ports. Journeys: admin
 * creates and opens an election, a voter votes and watches it finalize, the admin closes
 * it and sees the final result, the auditor verifies the log and a receipt in the browser.
 * Screenshots of the main screens go to docs/screenshots/. Every screen is checked with
 * axe-core in the light and the dark scheme; a voter also goes through the whole journey
 * with the keyboard only.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const PASSWORD = 'browser-demo-pw-123';
// docs/screenshots are refreshed with UPDATE_SCREENSHOTS=1 (so `npm test` leaves the
// working tree clean); otherwise the screens are still captured, into a temp folder.
const SHOTS =
  process.env['UPDATE_SCREENSHOTS'] === '1'
    ? join(repoRoot, 'docs/screenshots')
    : join(tmpdir(), 'qv-screenshots');

let stack: LaunchedStack | undefined;
let browser: Browser | undefined;
let webUrl = '';
const consoleErrors: string[] = [];
/** While a test breaks Redis on purpose, the browser's own log of the API's 503s is expected. */
let outageUnderway = false;

async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const ctx = await browser!.newContext({ viewport });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (outageUnderway && /Failed to load resource: .* 503 /.test(m.text())) return;
    // The resource's address too, so an expected failed request can be told from any other.
    consoleErrors.push(`${page.url()}: ${m.text()} [${m.location().url}]`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

/**
 * Removes from the console errors exactly the one entry an expected refusal leaves (the
 * browser logs a failed request itself), and nothing else: any other error stays for the
 * final "no console errors" test.
 */
async function dropExpectedError(status: string, path: RegExp): Promise<void> {
  const matching = () =>
    consoleErrors.filter((e) => {
      const m = / Failed to load resource: the server responded with a status of (.+) \[(.+)\]$/.exec(e);
      return m?.[1] === status && path.test(new URL(m[2]!).pathname);
    });
  // The console event may arrive a moment after the page showed the refusal.
  for (let i = 0; i < 50 && matching().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  const matches = matching();
  expect(matches).toHaveLength(1);
  consoleErrors.splice(consoleErrors.indexOf(matches[0]!), 1);
}

async function signIn(page: Page, username: string): Promise<void> {
  await page.goto(webUrl);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.locator('.conn-open').waitFor({ timeout: 15000 });
}

/** Relative luminance (WCAG) of a computed `rgb(r, g, b)` colour: 0 black, 1 white. */
function luminance(rgb: string): number {
  const [r = 0, g = 0, b = 0] = (rgb.match(/\d+(\.\d+)?/g) ?? []).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the browser tests need Debian's chromium ` +
        '(apt-get install -y chromium; .ci/run installs it). They do not pass without a browser.',
    );
  }
  mkdirSync(SHOTS, { recursive: true });
  // A killed leader or Redis node stays down long enough for the dashboard's polls to
  // show it down, then comes back (npm start relaunches dead coordinators and Redis nodes).
  stack = await launchStack(PASSWORD, 120000, {
    COORDINATOR_RELAUNCH_DELAY_MS: '10000',
    REDIS_RELAUNCH_DELAY_MS: '15000',
    // A sign-in's scrypt (~0.4 s idle) can queue for seconds on a busy 2-core machine:
    // give requests time so the screens show answers about their input, not 503s.
    REQUEST_DEADLINE_MS: '20000',
  });
  const web = stack.web;
  const out = stack.output();
  webUrl = /Web app\s+(http:\/\/\S+)/.exec(out)?.[1] ?? '';
  expect(webUrl).toBe(`http://127.0.0.1:${web}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30000 });
}, 180000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  if (stack) expect(await stack.stop()).toBe(0);
}, 60000);

describe('web app in Chromium', () => {
  const title = `Lunch ${Date.now().toString(36)}`;
  let adminPage: Page;
  let receipt = '';
  /** `receipt:nonce` from the voter's "check my receipt" link (the nonce never leaves the browser). */
  let receiptWithNonce = '';

  test('sign-in errors are explained', async () => {
    const page = await newPage();
    await page.goto(webUrl);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
    await shot(page, 'sign-in');
    await expectAccessible(page, 'the sign-in form with an error');
    // The 401 of a wrong password is logged by the browser itself: drop that one entry only.
    await dropExpectedError('401 (Unauthorized)', /^\/api\/auth\/token$/);
    await page.context().close();
  });

  test('admin creates and opens an election', async () => {
    adminPage = await newPage();
    await signIn(adminPage, 'admin');
    await adminPage.getByLabel('Title').fill(title);
    await adminPage.getByLabel('Option 1', { exact: true }).fill('Pizza');
    await adminPage.getByLabel('Option 2', { exact: true }).fill('Sushi');
    await adminPage.getByRole('button', { name: 'Add option' }).click();
    await adminPage.getByLabel('Option 3', { exact: true }).fill('Salad');
    await adminPage.getByRole('button', { name: 'Create election' }).click();
    await adminPage
      .getByRole('status')
      .filter({ hasText: `Created “${title}”` })
      .waitFor();
    await adminPage.getByRole('button', { name: 'Open election' }).click();
    await adminPage.locator('#control-h .badge-open').waitFor();
    await expectAccessible(adminPage, 'the admin page with an open election');
  }, 60000);

  test('the app follows the system: dark colours under prefers-color-scheme: dark, no motion under prefers-reduced-motion', async () => {
    const background = () => adminPage.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    const text = () => adminPage.evaluate('getComputedStyle(document.body).color');
    const transition = () =>
      adminPage.evaluate("getComputedStyle(document.querySelector('.bar-fill')).transitionDuration");
    await adminPage.emulateMedia({ colorScheme: 'dark' });
    expect(luminance(String(await background()))).toBeLessThan(0.05);
    expect(luminance(String(await text()))).toBeGreaterThan(0.7);
    await adminPage.emulateMedia({ colorScheme: 'light' });
    expect(luminance(String(await background()))).toBeGreaterThan(0.85);
    expect(luminance(String(await text()))).toBeLessThan(0.05);
    // The result bars grow smoothly, unless the system asks for no motion.
    await adminPage.emulateMedia({ reducedMotion: 'no-preference' });
    expect(await transition()).toBe('0.4s');
    await adminPage.emulateMedia({ reducedMotion: 'reduce' });
    expect(await transition()).toBe('0s');
    await adminPage.emulateMedia({ reducedMotion: 'no-preference' });
  });

  test('voter votes with a confirmation step, sees it finalize live with a receipt, and live results', async () => {
    const page = await newPage();
    await signIn(page, 'alice');
    await page.getByRole('button', { name: new RegExp(title) }).click();
    await expectAccessible(page, 'the ballot');
    await page.getByLabel('Pizza').check();
    await shot(page, 'voter-ballot');
    await page.getByRole('button', { name: 'Review my vote' }).click();
    await page.getByText('You are voting for').waitFor();
    await shot(page, 'voter-confirm');
    await expectAccessible(page, 'the vote confirmation');
    await page.getByRole('button', { name: 'Confirm vote' }).click();
    await page.getByTestId('receipt').waitFor();
    receipt = (await page.getByTestId('receipt').textContent()) ?? '';
    expect(receipt).toMatch(/^[0-9a-f]{16,}$/i);
    const href =
      (await page.getByRole('link', { name: 'Check my receipt in the audit log' }).getAttribute('href')) ??
      '';
    receiptWithNonce = decodeURIComponent(href.split('receipt=')[1] ?? '');
    expect(receiptWithNonce).toMatch(new RegExp(`^${receipt}:[0-9a-f]{32}$`));
    await page.getByTestId('vote-status').filter({ hasText: 'finalized' }).waitFor({ timeout: 20000 });
    await page.getByTestId('count-pizza').filter({ hasText: /^1 / }).waitFor({ timeout: 15000 });
    await shot(page, 'voter-finalized');
    await expectAccessible(page, 'the receipt and live results');
    // The same screen on a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'voter-finalized-phone');
    // The admin's screen updated by itself (WebSocket), without a reload.
    await adminPage.getByTestId('count-pizza').filter({ hasText: /^1 / }).waitFor({ timeout: 15000 });
    await adminPage.getByTestId('turnout').filter({ hasText: '1' }).waitFor();
    // A second vote in the same election is refused with a clear message.
    await page.reload();
    // Forget the stored vote (as on another device), then try again.
    await page.evaluate(
      "for (const k of Object.keys(localStorage)) if (k.startsWith('qv:vote:')) localStorage.removeItem(k)",
    );
    await page.reload();
    await expectAccessible(page, 'the list of elections');
    await page.getByRole('button', { name: new RegExp(title) }).click();
    await page.getByLabel('Sushi').check();
    await page.getByRole('button', { name: 'Review my vote' }).click();
    await page.getByRole('button', { name: 'Confirm vote' }).click();
    await page.getByRole('alert').filter({ hasText: 'already voted' }).waitFor();
    // The 409 is logged by the browser itself: drop that one entry only.
    await dropExpectedError('409 (Conflict)', /^\/api\/elections\/[^/]+\/votes$/);
    await expectAccessible(page, 'the refusal of a second vote');
    await page.context().close();
  }, 90000);

  test('a voter signs in, votes and checks the receipt with the keyboard only, with visible focus', async () => {
    const page = await newPage();
    await page.goto(webUrl);
    await tabTo(page, 'the username field', (f) => f.name === 'Username');
    await page.keyboard.type('bob');
    await tabTo(page, 'the password field', (f) => f.name === 'Password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: new RegExp(title) }).waitFor();
    // Each new screen takes the focus to its heading: the next Tab goes on from there.
    expect(await focused(page)).toMatchObject({ tag: 'h2', name: 'Elections' });
    // Shift+Tab from the page heading the sign-in focused lands in the top bar: back down to the list.
    await tabTo(page, 'the sign-out button', (f) => f.name === 'Sign out', { back: true });
    await tabTo(page, 'the open election', (f) => f.tag === 'button' && f.name.includes(title));
    await page.keyboard.press('Enter');
    expect(await focused(page)).toMatchObject({ tag: 'h2', name: `${title} open` });
    await tabTo(page, 'the first option', (f) => f.type === 'radio');
    // Arrow keys move through a radio group and choose: Pizza, Sushi, Salad, back to Sushi.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    expect(await page.getByLabel('Sushi').isChecked()).toBe(true);
    await tabTo(page, 'the review button', (f) => f.name === 'Review my vote');
    await page.keyboard.press('Enter');
    await page.getByText('You are voting for').filter({ hasText: 'Sushi' }).waitFor();
    expect(await focused(page)).toMatchObject({ tag: 'h3', name: 'Confirm your vote' });
    await tabTo(page, 'the confirm button', (f) => f.name === 'Confirm vote');
    await page.keyboard.press('Space');
    const bobReceipt = (await page.getByTestId('receipt').textContent()) ?? '';
    expect(await focused(page)).toMatchObject({ tag: 'h3', name: 'Your vote' });
    expect(bobReceipt).toMatch(/^[0-9a-f]{16,}$/i);
    await page.getByTestId('vote-status').filter({ hasText: 'finalized' }).waitFor({ timeout: 20000 });
    await tabTo(page, 'the receipt link', (f) => f.name === 'Check my receipt in the audit log');
    await page.keyboard.press('Enter');
    await page
      .getByTestId('receipt-result')
      .filter({ hasText: 'Found: counted for “Sushi”' })
      .waitFor({ timeout: 20000 });
    expect(await page.getByLabel('Receipt').inputValue()).toContain(bobReceipt);
    await expectAccessible(page, "the voter's audit page with a receipt");
    await page.context().close();
  }, 90000);

  test('admin closes the election and sees the final result', async () => {
    await adminPage.getByRole('button', { name: 'Close election' }).click();
    await adminPage.locator('#control-h .badge-closed').waitFor();
    await adminPage.getByTestId('final').waitFor({ timeout: 20000 });
    expect(await adminPage.getByTestId('count-pizza').textContent()).toMatch(/^1 /);
    await shot(adminPage, 'admin-elections');
    await expectAccessible(adminPage, 'the admin page with a final result');
  }, 60000);

  test('auditor verifies the hash chains, the recount and a receipt in the browser', async () => {
    const page = await newPage();
    await signIn(page, 'auditor');
    await page.getByLabel('Election').selectOption({ label: `${title} (closed)` });
    await page.getByRole('button', { name: 'Load and verify' }).click();
    await page.getByTestId('verdict').filter({ hasText: 'Verified' }).waitFor({ timeout: 20000 });
    expect(await page.getByTestId('recount-pizza').textContent()).toBe('1');
    await page.getByLabel('Receipt').fill(receipt);
    await page.getByTestId('receipt-result').filter({ hasText: 'Found: counted for “Pizza”' }).waitFor();
    await page.getByLabel('Receipt').fill('0'.repeat(64));
    await page.getByTestId('receipt-result').filter({ hasText: 'Not found' }).waitFor();
    // With the voter's nonce: the entry carrying the receipt is proven to be that ballot.
    await page.getByLabel('Receipt').fill(receiptWithNonce);
    await page.getByTestId('receipt-binding').filter({ hasText: 'Your nonce confirms it' }).waitFor();
    await page.getByLabel('Receipt').fill(`${receipt}:${'0'.repeat(32)}`);
    await page.getByTestId('receipt-binding').filter({ hasText: 'does not commit' }).waitFor();
    await page.getByLabel('Receipt').fill(receipt);
    await shot(page, 'auditor-verified');
    await expectAccessible(page, 'the verified audit log');
    await page.context().close();
  }, 60000);

  test('admin monitoring dashboard shows coordinators, Redis Cluster and the pipeline, and follows a killed leader and a Redis failover', async () => {
    await adminPage.getByRole('link', { name: 'Monitoring' }).click();
    await adminPage
      .getByTestId('leader')
      .filter({ hasText: /^c[123]$/ })
      .waitFor({ timeout: 20000 });
    await adminPage.getByTestId('redis-state').filter({ hasText: 'ok' }).waitFor();
    for (const id of ['c1', 'c2', 'c3']) await adminPage.getByTestId(`node-${id}`).waitFor();
    await adminPage.waitForTimeout(4500); // a few samples for the charts
    await shot(adminPage, 'monitoring');
    await expectAccessible(adminPage, 'the monitoring page');

    // The charts: a value axis with its unit, clock times on the time axis, an accessible
    // name with the span and latest value, and a tooltip from the keyboard and the mouse.
    const chart = adminPage.getByTestId('chart-throughput');
    const tip = adminPage.getByTestId('chart-throughput-tip');
    const times = await chart.locator('.time-label').allTextContents();
    expect(times.length).toBeGreaterThanOrEqual(1);
    for (const t of times) expect(t).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(await chart.locator('.axis-y text').allTextContents()).toEqual(
      expect.arrayContaining(['0', '/s']),
    );
    expect(await chart.getByRole('img').getAttribute('aria-label')).toMatch(
      /^Finalized votes per second from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d; latest: finalized \d+(\.\d)? \/s$/,
    );
    expect(await tip.textContent()).toBe('');
    await chart.getByRole('group').focus();
    const samples = await chart.locator('polyline').getAttribute('points');
    const count = (samples ?? '').trim().split(' ').length;
    expect(count).toBeGreaterThanOrEqual(2);
    await adminPage.keyboard.press('End');
    const last = (await tip.textContent()) ?? '';
    expect(last).toMatch(/^\d\d:\d\d:\d\dfinalized: \d+(\.\d)? \/s$/);
    const lastIndex = Number(await tip.getAttribute('data-sample'));
    expect(lastIndex).toBeGreaterThanOrEqual(count - 1);
    await adminPage.keyboard.press('Home');
    expect(await tip.getAttribute('data-sample')).toBe('0');
    const first = (await tip.textContent()) ?? '';
    expect(first).toMatch(/^\d\d:\d\d:\d\d/);
    expect(first.slice(0, 8) < last.slice(0, 8)).toBe(true);
    await adminPage.keyboard.press('ArrowRight');
    expect(await tip.getAttribute('data-sample')).toBe('1');
    expect(((await tip.textContent()) ?? '').slice(0, 8) >= first.slice(0, 8)).toBe(true);
    await adminPage.keyboard.press('ArrowLeft');
    await adminPage.keyboard.press('ArrowLeft');
    expect(await tip.getAttribute('data-sample')).toBe('0');
    await adminPage.keyboard.press('Escape');
    expect(await tip.textContent()).toBe('');
    const offsets = adminPage.getByTestId('chart-offsets');
    await offsets.getByRole('group').hover();
    await adminPage
      .getByTestId('chart-offsets-tip')
      .filter({ hasText: /^\d\d:\d\d:\d\dc1: .*c2: .*c3: / })
      .waitFor();
    await expectAccessible(adminPage, 'the monitoring page with a chart tooltip');
    await adminPage.mouse.move(0, 0);

    // The dashboard follows a killed leader by itself: a new leader, the dead node
    // unhealthy, and a leader.changed event in the live feed.
    const oldLeader = (await adminPage.getByTestId('leader').textContent())?.trim() ?? '';
    const index = ['c1', 'c2', 'c3'].indexOf(oldLeader);
    expect(index).toBeGreaterThanOrEqual(0);
    const status = (await (await fetch(`http://127.0.0.1:${stack!.admin + index}/status`)).json()) as {
      pid: number;
    };
    process.kill(status.pid, 'SIGKILL');
    await adminPage
      .getByTestId('leader')
      .filter({ hasText: new RegExp(`^(?!${oldLeader}$)c[123]$`) })
      .waitFor({ timeout: 20000 });
    await adminPage.locator(`tr.mismatch[data-testid="node-${oldLeader}"]`).waitFor({ timeout: 20000 });
    await adminPage.locator('.feed li.ev-leader-changed').first().waitFor({ timeout: 20000 });
    await shot(adminPage, 'monitoring-leader-killed');
    await expectAccessible(adminPage, 'the monitoring page after a leader change');
    // npm start relaunches it: the dashboard shows it healthy again, no longer leading.
    await adminPage.locator(`tr[data-testid="node-${oldLeader}"]:not(.mismatch)`).waitFor({ timeout: 30000 });
    expect((await adminPage.getByTestId('leader').textContent())?.trim()).not.toBe(oldLeader);

    // ... and a Redis master that dies: its node shows FAILING, then its replica takes
    // over and every slot is covered again.
    const redisPort = [0, 1, 2, 3, 4, 5]
      .map((i) => stack!.redisBase + i)
      .find((port) =>
        execFileSync('redis-cli', ['-p', String(port), 'ROLE'])
          .toString()
          .startsWith('master'),
      )!;
    const info = execFileSync('redis-cli', ['-p', String(redisPort), 'INFO', 'server']).toString();
    outageUnderway = true;
    process.kill(Number(/process_id:(\d+)/.exec(info)?.[1]), 'SIGKILL');
    await adminPage
      .locator('li', { hasText: new RegExp(`127\\.0\\.0\\.1:${redisPort} — .*FAILING`) })
      .waitFor({ timeout: 30000 });
    await adminPage
      .locator('p', { hasText: /State ok · 3 masters · \d replicas · 16384 \/ 16384 slots covered/ })
      .waitFor({ timeout: 30000 });
    await adminPage.waitForTimeout(2500); // one more poll after recovery
    outageUnderway = false;
    await shot(adminPage, 'monitoring-redis-failover');
    await adminPage.context().close();
  }, 120000);

  test('no console errors in any screen', () => {
    expect(consoleErrors).toEqual([]);
  });
});
