import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { ElectionRecord } from '../../shared/ballots';
import type { Election } from '../../shared/elections/model';
import { type ApiCall, expectStatus, fetchApi } from '../../shared/secret/api-call';
import {
  type TrusteeKeys,
  ceremonyStep,
  decryptAndPost,
  newTrusteeKeys,
} from '../../shared/secret/trustee-client';
import { expectAccessible } from '../helpers/axe';
import { eventually } from '../helpers/stack';
import { type LaunchedStack, launchStack } from '../helpers/launcher';

/**
 * A secret-ballot election in the web app, in Chromium (playwright-core), against the
 * stack `npm start` runs: the election and its key ceremony (2 trustees, k = 2, the
 * shared trustee client) are set up over HTTP; the voter challenges a first ballot (the
 * browser checks its opening and publishes it as spoiled), casts a fresh one, sees its
 * tracking code and finds it in the record; after close and decryption the page shows
 * the totals, and the audit page verifies the record (naming the failure of an altered one).
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'];
const PASSWORD = 'browser-secret-pw-123';
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

async function token(username: string, password = PASSWORD): Promise<string> {
  const r = await fetch(`${http}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  }
  stack = await launchStack(PASSWORD, 120000, { REQUEST_DEADLINE_MS: '20000' });
  webUrl = /Web app\s+(http:\/\/\S+)/.exec(stack.output())?.[1] ?? '';
  http = `http://127.0.0.1:${stack.http}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30000 });
}, 180000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  if (stack) expect(await stack.stop()).toBe(0);
}, 60000);

describe('secret ballot in the web app', () => {
  let admin: ApiCall;
  let election: Election;
  const trustees: { api: ApiCall; keys: TrusteeKeys }[] = [];
  let page: Page;
  let tracker = '';
  let challenged = '';

  test('admin creates a secret election; 2 trustees run the key ceremony; it opens', async () => {
    admin = fetchApi(http, await token('admin'));
    const ids: string[] = [];
    for (const n of [1, 2]) {
      const username = `trustee${n}-${Date.now().toString(36)}`;
      const u = expectStatus(
        await admin('POST', '/users', { username, password: PASSWORD, role: 'trustee' }),
        'user',
        201,
      );
      ids.push(u.body.id);
      trustees.push({
        api: fetchApi(http, await token(username)),
        keys: undefined as unknown as TrusteeKeys,
      });
    }
    election = expectStatus(
      await admin('POST', '/elections', {
        title: 'Colour secret',
        options: OPTIONS,
        ballot: 'secret',
        trustees: ids,
        threshold: 2,
      }),
      'create',
      201,
    ).body;
    trustees.forEach((t, i) => {
      t.keys = newTrusteeKeys(election, i + 1);
    });
    await eventually(
      async () => {
        const left = await Promise.all(trustees.map((t) => ceremonyStep(t.api, election, t.keys)));
        if (left.every((l) => l === 'wait for the admin to finish')) return true;
        await new Promise((r) => setTimeout(r, 300));
        return false;
      },
      60000,
      'both trustees dealt and acknowledged',
    );
    expectStatus(await admin('POST', `/elections/${election.id}/ceremony/finish`), 'finish', 200);
    expectStatus(await admin('POST', `/elections/${election.id}/open`), 'open', 200);
    election = (await admin('GET', `/elections/${election.id}`)).body;
    expect(election.jointKey).toMatch(/^[0-9a-f]{64}$/);
  }, 120000);

  test('the voter challenges a ballot, casts a fresh one and finds its tracking code in the record', async () => {
    page = await (await browser!.newContext()).newPage();
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(webUrl);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: /Colour secret/ }).click();
    await page.getByTestId('decryption').filter({ hasText: 'No totals yet' }).waitFor();
    await expectAccessible(page, 'the secret ballot');

    // A first ballot, challenged: the browser checks the opening, the server keeps it as spoiled.
    await page.getByLabel('Green').check();
    await page.getByRole('button', { name: 'Encrypt my ballot' }).click();
    challenged = (await page.getByTestId('draft-tracker').textContent()) ?? '';
    expect(challenged).toMatch(/^[0-9a-f]{64}$/);
    await page.getByRole('button', { name: 'Challenge this ballot' }).click();
    await page
      .getByTestId('challenge-result')
      .filter({ hasText: 'encrypt Green' })
      .waitFor({ timeout: 20000 });
    await expectAccessible(page, 'a challenged secret ballot');

    // A fresh ballot, cast.
    await page.getByLabel('Red').check();
    await page.getByRole('button', { name: 'Encrypt my ballot' }).click();
    const draft = (await page.getByTestId('draft-tracker').textContent()) ?? '';
    expect(draft).not.toBe(challenged);
    await page.getByRole('button', { name: 'Cast this ballot' }).click();
    tracker = (await page.getByTestId('tracker').textContent({ timeout: 20000 })) ?? '';
    expect(tracker).toBe(draft);
    await page.getByTestId('vote-status').filter({ hasText: 'finalized' }).waitFor({ timeout: 30000 });
    await page.getByRole('button', { name: 'Find my ballot in the record' }).click();
    await page.getByTestId('record-found').filter({ hasText: 'Found' }).waitFor({ timeout: 10000 });
    await expectAccessible(page, 'a cast secret ballot found in the record');
    // This device remembers the cast ballot: the list of open elections says so.
    await page.reload();
    await page.getByRole('button', { name: /Colour secret.*You voted/ }).waitFor();

    const rec = (await admin('GET', `/elections/${election.id}/record`)).body as ElectionRecord;
    const states = Object.fromEntries(rec.ballots.map((b) => [b.tracker, b.state]));
    expect(states).toEqual({ [tracker]: 'counted', [challenged]: 'spoiled' });
    // Nothing in the record or the ballot names the option chosen: only ciphertexts.
    expect(JSON.stringify(rec.ballots.find((b) => b.tracker === tracker))).not.toMatch(/red|Red/);
  }, 120000);

  test('after close and decryption by the trustees, the voter sees the totals', async () => {
    expectStatus(await admin('POST', `/elections/${election.id}/close`), 'close', 200);
    await eventually(
      async () => (await admin('GET', `/elections/${election.id}/tally`)).body.final === true,
      30000,
      'the tally final',
    );
    for (const t of trustees) await decryptAndPost(t.api, election, t.keys);
    await page.reload();
    await page.getByRole('button', { name: /Colour secret/ }).click();
    await page.getByTestId('decryption').filter({ hasText: 'Decrypted' }).waitFor({ timeout: 15000 });
    await page.getByTestId('count-red').filter({ hasText: /^1 / }).waitFor();
    expect(await page.getByTestId('count-green').textContent()).toMatch(/^0 /);
    await expectAccessible(page, 'the decrypted totals');
  }, 90000);

  test('the audit page verifies the record in the browser and names what an altered record breaks', async () => {
    await page.goto(`${webUrl}#/audit/${election.id}?receipt=${tracker}`);
    await page
      .getByTestId('verdict')
      .filter({ hasText: 'Verified (secret ballot' })
      .waitFor({ timeout: 30000 });
    await page.getByTestId('receipt-result').filter({ hasText: 'counted' }).waitFor();
    expect(await page.getByTestId('recount-red').textContent()).toBe('1');
    await expectAccessible(page, 'the verified secret-ballot record');

    // The same page given a record whose counted ballot carries a flipped signature byte.
    await page.route('**/api/elections/*/record', async (route) => {
      const res = await route.fetch();
      const rec = (await res.json()) as ElectionRecord;
      const b = rec.ballots.find((x) => x.tracker === tracker)!;
      b.signature = (b.signature[0] === '0' ? '1' : '0') + b.signature.slice(1);
      await route.fulfill({ response: res, json: rec });
    });
    await page.reload();
    await page.getByTestId('verdict').filter({ hasText: 'Verification FAILED' }).waitFor({ timeout: 30000 });
    const failures = (await page.getByTestId('failures').textContent()) ?? '';
    expect(failures).toContain('ballot_state');
    expect(failures).toContain('bad_signature');
    await expectAccessible(page, 'a record that fails verification');
    expect(errors).toEqual([]);
  }, 90000);
});
