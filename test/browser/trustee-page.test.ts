import { existsSync, readFileSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import {
  type ElectionRecord,
  ceremonyContext,
  defaultGroup,
  evaluateShare,
  sealShare,
  toHex,
  voterPublicKey,
} from '../../shared/ballots';
import type { Election } from '../../shared/elections/model';
import { type ApiCall, expectStatus, fetchApi } from '../../shared/secret/api-call';
import { manifestOf } from '../../shared/secret/election-manifest';
import { parseTrusteeKeys, parseVoterKey } from '../../shared/secret/key-files';
import {
  type TrusteeKeys,
  ceremonyStep,
  decryptAndPost,
  newTrusteeKeys,
} from '../../shared/secret/trustee-client';
import { type LaunchedStack, launchStack } from '../helpers/launcher';
import { expectAccessible } from '../helpers/axe';
import { eventually } from '../helpers/stack';

/**
 * A trustee in the web app, in Chromium (playwright-core), against the stack `npm
 * start` runs. The admin creates the secret election on the admin page (trustees
 * picked by username, threshold 2; a missing trustee and a threshold above n are
 * refused with their messages), follows its ceremony there, finishes it and opens the
 * election. Trustee 1 takes part in a 2-of-3 key ceremony from the trustee page
 * (keys made in the browser); trustee 2 runs the shared trustee client in this process
 * and trustee 3 deals trustee 1 a share that fails Feldman's check and never answers:
 * the page finds it and complains, and 3 is disqualified. A voter exports the voter key
 * file, and votes from a second browser after importing it (a wrong file is refused).
 * The election shows its encrypted-tally state, not zero totals. After close, trustee 1
 * imports its key file on another "device" (a fresh browser context), sees a tampered
 * share refused with the reason, submits a good one, waits for trustee 2's; the totals
 * appear for the voter and the audit page verifies the record. No request the trustee
 * page sends carries a secret of its keys.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'];
const PASSWORD = 'browser-trustee-pw-123';
const OPTIONS = [
  { id: 'red', label: 'Red' },
  { id: 'green', label: 'Green' },
  { id: 'blue', label: 'Blue' },
];

let stack: LaunchedStack | undefined;
let browser: Browser | undefined;
let webUrl = '';
let http = '';
const errors: string[] = [];
/** Every request body the trustee's pages sent. */
const trusteeBodies: string[] = [];

async function token(username: string, password = PASSWORD): Promise<string> {
  const r = await fetch(`${http}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

/** A new browser context (another "device") signed in as `username`. */
async function device(username: string, watchBodies = false): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser!.newContext({ acceptDownloads: true });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // Refusals the test provokes (422, 400) are logged by Chromium as failed loads.
    if (
      m.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of 4/.test(m.text())
    )
      errors.push(m.text());
  });
  if (watchBodies) page.on('request', (r) => trusteeBodies.push(r.postData() ?? ''));
  await page.goto(webUrl);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return { ctx, page };
}

/** Clicks `button` and resolves with the text of the file the page offers for download. */
async function download(page: Page, button: string): Promise<string> {
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ]);
  return readFileSync((await dl.path())!, 'utf8');
}

const asFile = (name: string, text: string) => ({
  name,
  mimeType: 'application/json',
  buffer: Buffer.from(text),
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  }
  stack = await launchStack(PASSWORD, 120000, { REQUEST_DEADLINE_MS: '20000' });
  webUrl = /Web app\s+(http:\/\/\S+)/.exec(stack.output())?.[1] ?? '';
  http = `http://127.0.0.1:${stack.http}`;
  // The machine may be loaded: Chromium gets time to start (a launch wait, not an assertion).
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 120000 });
}, 300000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  if (stack) expect(await stack.stop()).toBe(0);
}, 60000);

describe('the trustee page and key files in the web app', () => {
  let admin: ApiCall;
  let election: Election;
  const other: Record<number, { api: ApiCall; keys: TrusteeKeys }> = {};
  let webTrustee = '';
  let trusteeKeyFile = '';
  let voterKeyFile = '';
  let voterPage: Page;

  test('the admin creates the secret election on its page; trustee 1 runs the ceremony from the web page, complains against a bad dealer; the admin finishes it (1 and 2 qualify) and opens', async () => {
    admin = fetchApi(http, await token('admin'));
    const suffix = Date.now().toString(36);
    const ids: string[] = [];
    const tokens: string[] = [];
    for (const n of [1, 2, 3]) {
      const username = `trustee${n}-${suffix}`;
      const u = expectStatus(
        await admin('POST', '/users', { username, password: PASSWORD, role: 'trustee' }),
        'user',
        201,
      );
      ids.push(u.body.id);
      tokens.push(await token(username));
      if (n === 1) webTrustee = username;
    }
    // The admin creates the secret election on the admin page: ballot mode, trustees
    // picked among the users with the trustee role, threshold; bad choices are named.
    const adminPage = (await device('admin')).page;
    await adminPage.getByLabel('Title').fill('Trustee colours');
    for (const [i, o] of OPTIONS.entries()) {
      if (i >= 2) await adminPage.getByRole('button', { name: 'Add option' }).click();
      await adminPage.getByLabel(`Option ${i + 1}`, { exact: true }).fill(o.label);
    }
    await adminPage.getByLabel(/^Ballot/).selectOption('secret');
    await adminPage.getByRole('button', { name: 'Create election' }).click();
    await adminPage
      .getByRole('alert')
      .filter({ hasText: 'A secret ballot needs at least one trustee: add users with the trustee role.' })
      .waitFor();
    const picker = adminPage.getByRole('group', { name: /^Trustees/ });
    for (const n of [1, 2, 3]) {
      await picker.getByLabel('Find users by username').fill(`trustee${n}-${suffix}`);
      await picker.getByRole('button', { name: `Add trustee${n}-${suffix}`, exact: true }).click();
    }
    await adminPage.getByLabel(/^Threshold/).fill('4');
    await adminPage.getByRole('button', { name: 'Create election' }).click();
    await adminPage
      .getByRole('alert')
      .filter({ hasText: 'The threshold must be a whole number from 1 to 3 (the number of trustees).' })
      .waitFor();
    await adminPage.getByLabel(/^Threshold/).fill('2');
    await expectAccessible(adminPage, 'the admin form of a secret election');
    await adminPage.getByRole('button', { name: 'Create election' }).click();
    await adminPage
      .getByRole('status')
      .filter({ hasText: 'Created “Trustee colours” (secret ballot, draft)' })
      .waitFor({ timeout: 15000 });
    const list = (await admin('GET', '/elections')).body.elections as Election[];
    election = list.find((e) => e.title === 'Trustee colours')!;
    expect(election).toMatchObject({
      ballot: 'secret',
      threshold: 2,
      options: OPTIONS,
      trustees: ids.map((id, i) => ({ index: i + 1, id })),
    });
    await adminPage
      .getByTestId('admin-ceremony-state')
      .filter({ hasText: "Waiting for the trustees' commitments: 0 of 3 published." })
      .waitFor({ timeout: 15000 });
    expect(await adminPage.getByRole('button', { name: 'Open election' }).isDisabled()).toBe(true);
    await expectAccessible(adminPage, 'the admin page of a secret election in its key ceremony');
    for (const i of [2, 3])
      other[i] = { api: fetchApi(http, tokens[i - 1]!), keys: newTrusteeKeys(election, i) };

    const { page } = await device(webTrustee, true);
    await page.getByRole('link', { name: 'Ceremonies' }).click();
    await page.getByRole('button', { name: /Trustee colours/ }).click();
    await page.getByTestId('keys-state').filter({ hasText: 'No keys' }).waitFor();
    await expectAccessible(page, 'the trustee page before the ceremony');
    await page.getByRole('button', { name: 'Create my keys and take part' }).click();
    await page.getByTestId('keys-state').filter({ hasText: 'This browser holds your keys' }).waitFor();

    // Trustees 2 and 3 commit; 2 deals and checks honestly; 3 deals trustee 1 a share of
    // another point of its polynomial (fails Feldman's check) and then never answers.
    const ctx = ceremonyContext(manifestOf(election));
    let dealt3 = false;
    await eventually(
      async () => {
        const left2 = await ceremonyStep(other[2]!.api, election, other[2]!.keys);
        const view = (await admin('GET', `/elections/${election.id}/ceremony`)).body;
        const t3 = view.trustees.find((t: { index: number }) => t.index === 3);
        if (!t3.committed) await ceremonyStep(other[3]!.api, election, other[3]!.keys);
        else if (view.state === 'shares' && !dealt3) {
          const k3 = other[3]!.keys;
          const shares = await Promise.all(
            view.commitments
              .filter((c: { trustee: number }) => c.trustee !== 3)
              .map(async (c: { trustee: number; transportKey: string }) => {
                const point = c.trustee === 1 ? 7 : c.trustee;
                const s = await sealShare(
                  defaultGroup,
                  ctx,
                  { index: 3, keys: k3.transport },
                  { index: c.trustee, publicKey: c.transportKey },
                  evaluateShare(k3.polynomial, point),
                );
                return { to: s.to, nonce: s.nonce, ciphertext: s.ciphertext };
              }),
          );
          expectStatus(
            await other[3]!.api('POST', `/elections/${election.id}/ceremony/shares`, { shares }),
            'shares',
            200,
          );
          dealt3 = true;
        }
        await new Promise((r) => setTimeout(r, 300));
        return left2 === 'wait for the admin to finish' && dealt3;
      },
      60000,
      'trustees 2 and 3 dealt',
    );
    await page
      .getByTestId('share-checks')
      .filter({ hasText: 'verified from trustee(s) 2; INVALID from trustee(s) 3 (complaint filed)' })
      .waitFor({ timeout: 30000 });
    await page
      .getByTestId('complaints')
      .filter({ hasText: 'Trustee 1 complained against trustee 3: not answered yet' })
      .waitFor();
    await page.getByTestId('ceremony-log').filter({ hasText: 'complained against trustee 3' }).waitFor();
    await expectAccessible(page, 'the trustee page with a complaint');

    // The key file in the CLI's format, checked as the CLI checks it.
    trusteeKeyFile = await download(page, 'Download key file');
    const keys = parseTrusteeKeys(trusteeKeyFile, { electionId: election.id, trustee: 1 });

    // The admin follows the ceremony on its page, finishes it there and opens the election.
    await adminPage
      .getByTestId('admin-ceremony-complaints')
      .filter({ hasText: 'Trustee 1 complained against trustee 3: not answered yet' })
      .waitFor({ timeout: 15000 });
    await adminPage.getByRole('button', { name: 'Finish the ceremony' }).click();
    await adminPage
      .getByTestId('admin-ceremony-state')
      .filter({
        hasText: 'Done: qualified trustees 1, 2 (any 2 of them decrypt the tally). The election can open.',
      })
      .waitFor({ timeout: 15000 });
    const finished = expectStatus(await admin('GET', `/elections/${election.id}/ceremony`), 'ceremony', 200);
    expect({ state: finished.body.state, qualified: finished.body.qualified }).toEqual({
      state: 'done',
      qualified: [1, 2],
    });
    await page
      .getByTestId('ceremony-outcome')
      .filter({ hasText: 'Qualified trustees: 1, 2. You are one' })
      .waitFor({
        timeout: 15000,
      });
    await adminPage.getByRole('button', { name: 'Open election' }).click();
    await adminPage.locator('#control-h .badge-open').waitFor({ timeout: 15000 });
    election = (await admin('GET', `/elections/${election.id}`)).body;
    expect(election.status).toBe('open');

    // The server never saw a secret of the page's keys: not a coefficient, not the transport key.
    const secrets = [...keys.polynomial.coefficients, keys.transport.secretKey];
    expect(trusteeBodies.some((b) => b.includes(keys.commitment.coefficients[0]!))).toBe(true);
    for (const s of secrets) expect(trusteeBodies.filter((b) => b.includes(s))).toEqual([]);
  }, 180000);

  test('a voter exports the voter key file and votes from another browser with it; a wrong file is refused', async () => {
    const first = (await device('alice')).page;
    await first.getByRole('button', { name: /Trustee colours/ }).click();
    voterKeyFile = await download(first, 'Download my voter key file');
    const publicKey = toHex(voterPublicKey(parseVoterKey(voterKeyFile, election.id)));

    voterPage = (await device('alice')).page;
    await voterPage.getByRole('button', { name: /Trustee colours/ }).click();
    await voterPage.getByTestId('import-voter-key').setInputFiles(asFile('trustee.json', trusteeKeyFile));
    await voterPage
      .getByRole('alert')
      .filter({ hasText: 'This file cannot be used: this is a trustee key file, not a voter key file.' })
      .waitFor();
    await voterPage.getByTestId('import-voter-key').setInputFiles(asFile('voter.json', voterKeyFile));
    await voterPage
      .getByTestId('voter-key-state')
      .filter({ hasText: `public key ${publicKey}` })
      .waitFor();
    await expectAccessible(voterPage, 'the secret ballot with an imported voter key');

    await voterPage.getByLabel('Red').check();
    await voterPage.getByRole('button', { name: 'Encrypt my ballot' }).click();
    await voterPage.getByRole('button', { name: 'Cast this ballot' }).click();
    const tracker = (await voterPage.getByTestId('tracker').textContent({ timeout: 20000 })) ?? '';
    await voterPage.getByTestId('vote-status').filter({ hasText: 'finalized' }).waitFor({ timeout: 30000 });
    const rec = (await admin('GET', `/elections/${election.id}/record`)).body as ElectionRecord;
    expect(rec.ballots.find((b) => b.tracker === tracker)?.publicKey).toBe(publicKey);

    // The admin's view of the open secret election: turnout and the encrypted tally, no zero totals.
    const adminPage = (await device('admin')).page;
    await adminPage.getByRole('button', { name: /Trustee colours/ }).click();
    await adminPage
      .getByTestId('encrypted-tally')
      .filter({
        hasText: 'Encrypted tally of 1 counted ballot: the totals exist only once 2 of the 3 trustees',
      })
      .waitFor({ timeout: 15000 });
    expect(await adminPage.getByTestId('count-red').count()).toBe(0);
    await expectAccessible(adminPage, "the admin's view of an encrypted tally");
  }, 120000);

  test('after close, trustee 1 imports its key file on another device; a tampered share is refused and named; its share and trustee 2’s publish the totals', async () => {
    expectStatus(await admin('POST', `/elections/${election.id}/close`), 'close', 200);
    await eventually(
      async () => (await admin('GET', `/elections/${election.id}/tally`)).body.final === true,
      30000,
      'the tally final',
    );
    const { page } = await device(webTrustee, true);
    await page.getByRole('link', { name: 'Ceremonies' }).click();
    await page.getByRole('button', { name: /Trustee colours/ }).click();
    await page.getByTestId('keys-state').filter({ hasText: 'No keys' }).waitFor();
    await page.getByTestId('import-trustee-keys').setInputFiles(asFile('voter.json', voterKeyFile));
    await page
      .getByRole('alert')
      .filter({ hasText: 'This file cannot be used: this is a voter key file, not a trustee key file.' })
      .waitFor();
    await page.getByTestId('import-trustee-keys').setInputFiles(asFile('trustee.json', trusteeKeyFile));
    await page.getByTestId('keys-state').filter({ hasText: 'This browser holds your keys' }).waitFor();
    await page
      .getByTestId('decrypt-state')
      .filter({ hasText: 'The tally is final (1 ballot(s) counted' })
      .waitFor({
        timeout: 15000,
      });

    // On the way to the server, one option's proof is replaced by another's: refused, named.
    await page.route('**/api/elections/*/decryption-shares', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}');
      body.values[0].proof.c = body.values[1].proof.c;
      await route.continue({ postData: JSON.stringify(body) });
    });
    await page.getByRole('button', { name: 'Compute and submit my decryption share' }).click();
    await page
      .getByRole('alert')
      .filter({
        hasText:
          'The server refused your decryption share: its proof of correct decryption does not verify for option 1',
      })
      .waitFor({ timeout: 20000 });
    await expectAccessible(page, 'the trustee page with a refused decryption share');
    await page.unroute('**/api/elections/*/decryption-shares');
    await page.getByRole('button', { name: 'Compute and submit my decryption share' }).click();
    await page
      .getByTestId('share-outcome')
      .filter({ hasText: 'accepted (its proofs verified). Waiting for 1 more trustee(s).' })
      .waitFor({ timeout: 20000 });
    await page.getByTestId('decrypt-state').filter({ hasText: 'Your share is in' }).waitFor();

    const last = await decryptAndPost(other[2]!.api, election, other[2]!.keys);
    expect(last.decryption?.used).toEqual([1, 2]);
    expect(last.decryption?.totals).toEqual([1, 0, 0]);
    await page
      .getByTestId('decrypt-state')
      .filter({ hasText: 'The totals are published (decrypted by trustees 1, 2): Red 1, Green 0, Blue 0.' })
      .waitFor({ timeout: 15000 });
    await expectAccessible(page, 'the trustee page with published totals');
    // The voter's page picks the totals up by itself.
    await voterPage.getByTestId('decryption').filter({ hasText: 'Decrypted' }).waitFor({ timeout: 15000 });
    await voterPage.getByTestId('count-red').filter({ hasText: /^1 / }).waitFor();

    const secret = parseTrusteeKeys(trusteeKeyFile);
    for (const s of [...secret.polynomial.coefficients, secret.transport.secretKey])
      expect(trusteeBodies.filter((b) => b.includes(s))).toEqual([]);
  }, 120000);

  test('the audit page verifies the record of the election the web trustee decrypted', async () => {
    const { page } = await device('auditor');
    await page.goto(`${webUrl}#/audit/${election.id}`);
    await page
      .getByTestId('verdict')
      .filter({ hasText: 'Verified (secret ballot' })
      .waitFor({ timeout: 30000 });
    expect(await page.getByTestId('recount-red').textContent()).toBe('1');
    expect(errors).toEqual([]);
  }, 60000);
});
