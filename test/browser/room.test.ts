import { existsSync, readFileSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expectAccessible } from '../helpers/axe';
import { type LaunchedStack, launchStack } from '../helpers/launcher';

/**
 * Issue 17's web screens in a real browser, against one whole stack (`npm start` on free
 * ports) shared by every case: a room of 50 participants joins a code poll from separate
 * browser contexts and votes while the presenter view counts exactly; an administrator
 * imports a roll (a bad line refused by its number), gets the credential files and the
 * printable sheet once, and a voter signs in from the sheet's voting link, which leaves
 * the address bar; a revoked link is refused; a "choose up to 2" ballot explains a third
 * choice; users are picked by name, not by id. Each new screen is checked with axe-core.
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
const PASSWORD = 'browser-room-pw-123';
const PARTICIPANTS = 50;
/** Participants joining at the same time (each its own browser context: its own device). */
const AT_ONCE = 5;
const OPTIONS = ['Red', 'Green', 'Blue'] as const;

let stack: LaunchedStack | undefined;
let browser: Browser | undefined;
let webUrl = '';
let admin: Page;
const consoleErrors: string[] = [];

async function newPage(ctx?: BrowserContext): Promise<Page> {
  const context = ctx ?? (await browser!.newContext({ viewport: { width: 1280, height: 900 } }));
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()} [${m.location().url}]`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

/** Removes the one console entry an expected refusal leaves (the browser logs it itself). */
async function dropExpectedError(status: string, path: RegExp): Promise<void> {
  const matching = () =>
    consoleErrors.filter((e) => {
      const m = / Failed to load resource: the server responded with a status of (.+) \[(.+)\]$/.exec(e);
      return m?.[1] === status && path.test(new URL(m[2]!).pathname);
    });
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
}

/** Creates (and opens) an election from the admin form; returns its id. */
async function createElection(
  title: string,
  opts: { access?: 'roll' | 'code'; maxChoices?: number; voters?: string[]; open?: boolean } = {},
): Promise<string> {
  await admin.goto(`${webUrl}/#/admin`);
  await admin.getByLabel('Title').fill(title);
  for (const [i, label] of OPTIONS.entries()) {
    if (i >= 2) await admin.getByRole('button', { name: 'Add option' }).click();
    await admin.getByLabel(`Option ${i + 1}`, { exact: true }).fill(label);
  }
  // The form keeps the last access chosen (several code polls in a row): always set it.
  await admin.getByLabel('Who votes').selectOption(opts.access ?? 'roll');
  if (opts.maxChoices) await admin.getByLabel('Choose up to').fill(String(opts.maxChoices));
  for (const name of opts.voters ?? []) {
    await admin.getByLabel('Find users by username').fill(name.slice(0, 3));
    await admin.getByRole('button', { name: `Add ${name}`, exact: true }).click();
  }
  await admin.getByRole('button', { name: 'Create election' }).click();
  await admin
    .getByRole('status')
    .filter({ hasText: `Created “${title}”` })
    .waitFor();
  if (opts.open !== false) {
    await admin.getByRole('button', { name: 'Open election' }).click();
    await admin.locator('#control-h .badge-open').waitFor();
  }
  const href = (await admin.getByTestId('presenter-link').getAttribute('href')) ?? '';
  return decodeURIComponent(href.replace('#/present/', ''));
}

/** Votes on the ballot the page shows (single choice), up to the receipt. */
async function vote(page: Page, option: string): Promise<void> {
  await page.getByLabel(option).check();
  await page.getByRole('button', { name: 'Review my vote' }).click();
  await page.getByRole('button', { name: 'Confirm vote' }).click();
  await page.getByTestId('receipt').waitFor({ timeout: 30000 });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: the browser tests need Debian's chromium.`);
  }
  // A room's rush of first votes is what npm start's warm-up is for: warm, as a user runs it.
  stack = await launchStack(PASSWORD, 120000, { REQUEST_DEADLINE_MS: '20000', WARM_FUNCTIONS: 'on' });
  webUrl = `http://127.0.0.1:${stack.web}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30000 });
  admin = await newPage();
  await signIn(admin, 'admin');
}, 180000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  if (stack) expect(await stack.stop()).toBe(0);
}, 60000);

describe('issue 17 screens in Chromium', () => {
  test(`${PARTICIPANTS} participants join a code poll from their own devices and vote; the presenter view shows the exact totals`, async () => {
    const title = `Room ${Date.now().toString(36)}`;
    const id = await createElection(title, { access: 'code' });
    const code = ((await admin.getByTestId('join-code').textContent()) ?? '').trim();
    expect(code).toMatch(/^[0-9A-Z]{8}$/);

    const presenter = await newPage();
    await signIn(presenter, 'admin');
    await presenter.goto(`${webUrl}/#/present/${encodeURIComponent(id)}`);
    await presenter.getByTestId('present-code').filter({ hasText: code }).waitFor();
    // The join QR code encodes the join link; the presenter view has no controls.
    expect(await presenter.locator('.present-join img.qr').getAttribute('data-qr-text')).toBe(
      `${webUrl}/#/join/${code}`,
    );
    expect(await presenter.getByRole('button').count()).toBe(0);
    await expectAccessible(presenter, 'the presenter view');

    const expected: Record<string, number> = { red: 0, green: 0, blue: 0 };
    const participant = async (i: number) => {
      const option = OPTIONS[i % OPTIONS.length]!;
      const page = await newPage();
      if (i === 0) {
        // One types the code (as read from the screen: lower case, with a hyphen).
        await page.goto(`${webUrl}/#/join`);
        await expectAccessible(page, 'the join form');
        await page.getByLabel('Poll code').fill(`${code.slice(0, 4).toLowerCase()}-${code.slice(4)}`);
        await page.getByRole('button', { name: 'Join' }).click();
      } else {
        await page.goto(`${webUrl}/#/join/${code}`);
      }
      await page.getByRole('heading', { name: title }).waitFor({ timeout: 30000 });
      expect(new URL(page.url()).hash).toBe('#/vote');
      if (i === 0) await expectAccessible(page, "a joined participant's ballot");
      await vote(page, option);
      expected[option.toLowerCase()]!++;
      if (i === 1) {
        // The same device joining again is the same participant: it sees its vote, no new ballot.
        await page.goto(`${webUrl}/#/join/${code}`);
        await page.getByText(`You voted for ${option}`).waitFor();
        expect(await page.getByRole('button', { name: 'Review my vote' }).count()).toBe(0);
      }
      await page.context().close();
    };
    for (let i = 0; i < PARTICIPANTS; i += AT_ONCE) {
      await Promise.all(
        Array.from({ length: Math.min(AT_ONCE, PARTICIPANTS - i) }, (_, k) => participant(i + k)),
      );
    }
    expect(Object.values(expected).reduce((a, b) => a + b, 0)).toBe(PARTICIPANTS);
    for (const [optionId, n] of Object.entries(expected)) {
      await presenter
        .getByTestId(`present-count-${optionId}`)
        .filter({ hasText: new RegExp(`^${n}$`) })
        .waitFor({ timeout: 30000 });
    }
    await presenter
      .getByTestId('present-ballots')
      .filter({ hasText: `${PARTICIPANTS}` })
      .waitFor();
    await presenter
      .getByTestId('present-eligible')
      .filter({ hasText: `${PARTICIPANTS}` })
      .waitFor();
    await admin
      .getByTestId('joined')
      .filter({ hasText: `${PARTICIPANTS}` })
      .waitFor({ timeout: 10000 });
    await presenter.context().close();
  }, 240000);

  test('a roll import refuses a bad line by its number; a good one hands out the credential files and sheet once; a voter signs in from the sheet link and votes; a revoked link is refused', async () => {
    const title = `Roll ${Date.now().toString(36)}`;
    await createElection(title);
    await admin
      .getByLabel('Or paste the roll')
      .fill('name,email,weight\nAda,ada@example.org,1\nBob,bob@example,0\n');
    await admin.getByRole('button', { name: 'Import roll' }).click();
    await admin.getByTestId('roll-problems').filter({ hasText: 'Line 3' }).waitFor();
    expect(await admin.getByTestId('roll-problems').textContent()).not.toContain('Line 2');
    await dropExpectedError('400 (Bad Request)', /\/roll$/);

    await admin
      .getByLabel('Or paste the roll')
      .fill(
        'name,email,group\nAda Lovelace,ada@example.org,board\n"Turing, Alan",alan@example.org,\nGrace,,staff\n',
      );
    await admin.getByRole('button', { name: 'Import roll' }).click();
    await admin.getByRole('heading', { name: 'Voting credentials: shown once' }).waitFor();

    const download = async (name: string) => {
      const [dl] = await Promise.all([
        admin.waitForEvent('download'),
        admin.getByRole('button', { name }).click(),
      ]);
      return readFileSync((await dl.path())!, 'utf8')
        .trimEnd()
        .split('\r\n');
    };
    const csv = await download('Download credentials (CSV)');
    expect(csv[0]).toBe('voter_id,name,email,external_id,username,group,weight,credential,link');
    expect(csv).toHaveLength(4);
    const mail = await download('Download mail-merge file (CSV)');
    expect(mail[0]).toBe('email,name,link');
    expect(mail.slice(1).map((l) => l.split(',')[0])).toEqual(['ada@example.org', 'alan@example.org']);
    expect(mail[2]).toMatch(/^alan@example.org,"Turing, Alan",http:\/\/127\.0\.0\.1:\d+\/#\/c\/\S+$/);

    await admin.getByRole('button', { name: 'Show printable sheet' }).click();
    const cards = admin.getByTestId('credential-sheet').locator('.sheet-card');
    expect(await cards.count()).toBe(3);
    await expectAccessible(admin, 'the credential hand-out and printable sheet');
    const ada = cards.filter({ hasText: 'Ada Lovelace' });
    const link = (await ada.getByRole('link').getAttribute('href')) ?? '';
    expect(link).toMatch(new RegExp(`^${webUrl}/#/c/\\S{22,}$`));
    expect(await ada.locator('img.qr').getAttribute('data-qr-text')).toBe(link);
    expect(csv.some((l) => l.startsWith(',Ada Lovelace', l.indexOf(',')) && l.endsWith(link))).toBe(true);
    const grace = (await cards.filter({ hasText: 'Grace' }).getByRole('link').getAttribute('href')) ?? '';
    // On paper only the cards print: the app around them is hidden by the print CSS.
    type Styled = { getComputedStyle(e: unknown): { visibility: string } };
    const visibility = (selector: string) =>
      admin
        .locator(selector)
        .first()
        .evaluate((e) => (globalThis as unknown as Styled).getComputedStyle(e).visibility);
    await admin.emulateMedia({ media: 'print' });
    try {
      expect(await visibility('header.top')).toBe('hidden');
      expect(await visibility('#handout-h')).toBe('hidden');
      expect(await visibility('.sheet-card')).toBe('visible');
    } finally {
      await admin.emulateMedia({ media: 'screen' });
    }

    // The voter opens the link of the sheet (what its QR code encodes) and lands on the ballot.
    const voter = await newPage();
    await voter.goto(link);
    await voter.getByRole('heading', { name: title }).waitFor({ timeout: 30000 });
    // The credential is gone from the address bar and from the history entry.
    expect(voter.url()).toBe(`${webUrl}/#/vote`);
    expect(voter.url()).not.toContain(link.split('#/c/')[1]!);
    await vote(voter, 'Green');
    await voter.context().close();

    // Once the admin leaves the hand-out, the roll shows who voted; Grace's link is revoked.
    await admin.getByRole('button', { name: 'Done: I saved them' }).click();
    await admin.getByTestId('roll-voters').filter({ hasText: '3' }).waitFor({ timeout: 10000 });
    await admin.getByRole('button', { name: 'Revoke the credential of Grace' }).click();
    await admin.locator('tr', { hasText: 'Grace' }).locator('.badge-cred-revoked').waitFor();
    const refused = await newPage();
    await refused.goto(grace);
    await refused.getByRole('alert').filter({ hasText: 'This voting link does not work' }).waitFor();
    expect(refused.url()).toBe(`${webUrl}/#/c`);
    await expectAccessible(refused, 'a refused voting link');
    await dropExpectedError('401 (Unauthorized)', /^\/api\/auth\/credential$/);
    await refused.context().close();
  }, 120000);

  test('a "choose up to 2" ballot explains a third choice and counts two; voters are picked by username', async () => {
    const title = `Approval ${Date.now().toString(36)}`;
    await createElection(title, { maxChoices: 2, voters: ['alice'] });
    await admin.getByText('only listed voters may vote').waitFor();
    const page = await newPage();
    await signIn(page, 'alice');
    await page.getByRole('button', { name: new RegExp(title) }).click();
    await page.getByRole('group', { name: 'Choose up to 2 options' }).waitFor();
    for (const o of OPTIONS) await page.getByLabel(o).check();
    await page.getByRole('alert').filter({ hasText: 'this ballot allows at most 2' }).waitFor();
    expect(await page.getByRole('button', { name: 'Review my vote' }).isDisabled()).toBe(true);
    await expectAccessible(page, 'an approval ballot with too many choices');
    await page.getByLabel('Green').uncheck();
    await page.getByRole('button', { name: 'Review my vote' }).click();
    await page.getByText('You are voting for Red, Blue').waitFor();
    await page.getByRole('button', { name: 'Confirm vote' }).click();
    await page.getByTestId('receipt').waitFor({ timeout: 30000 });
    await page.getByTestId('vote-status').filter({ hasText: 'finalized' }).waitFor({ timeout: 20000 });
    await admin.getByTestId('count-red').filter({ hasText: /^1 / }).waitFor({ timeout: 15000 });
    expect(await admin.getByTestId('count-blue').textContent()).toMatch(/^1 /);
    expect(await admin.getByTestId('count-green').textContent()).toMatch(/^0 /);
    await page.context().close();
  }, 90000);

  test('no console errors in any screen', () => {
    expect(consoleErrors).toEqual([]);
  });
});
