import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HistoryBuilder, finalElection, finalState } from '../helpers/chaos-fixtures';

/**
 * `npm run chaos:check -- <run folder>` re-judges a saved run: the verdict of a run
 * folder is reproducible without the faults, and its exit code says valid or not.
 */
const root = resolve(__dirname, '../..');
const checkCli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'chaos/check-cli.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30000,
  });

describe('npm run chaos:check', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qv-chaos-check-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function saveRun(name: string, logged: boolean): string {
    const run = join(dir, name);
    const s = { electionId: 'e', voterId: 'v1', optionId: 'a', idempotencyKey: 'k' };
    const h = new HistoryBuilder()
      .nemesis('start-partition', { id: 1, targets: ['c1'] }, 10)
      .op('c1', 'submit', s, 20, 80, 'ok', { ...s, voteId: 'e.0.1-0' })
      .nemesis('stop-partition', { id: 1, targets: ['c1'] }, 500);
    const final = finalState(finalElection('e', logged ? [{ voteId: 'e.0.1-0', option: 'a' }] : []));
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'history.ndjson'), h.ops.map((o) => JSON.stringify(o)).join('\n'));
    writeFileSync(join(run, 'final-state.json'), JSON.stringify(final));
    writeFileSync(join(run, 'leaders.json'), JSON.stringify([{ node: 'c1', term: 1 }]));
    writeFileSync(join(run, 'seed.txt'), '5\n');
    return run;
  }

  test('a valid run: exit 0, the verdicts, and --html writes the report next to the history', () => {
    const run = saveRun('good', true);
    const r = checkCli(run, '--html');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('checker: every invariant holds');
    expect(readFileSync(join(run, 'report-recheck.html'), 'utf8')).toContain('chaos run seed 5 (re-checked)');
  }, 30000);

  test('a run that lost an acknowledged vote: exit 1 and the violation with its fault window', () => {
    const r = checkCli(saveRun('lost', false));
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAIL acknowledged-not-lost');
    expect(r.stdout).toMatch(
      /vote e\.0\.1-0 of voter v1 .*acknowledged vote lost \[fault: partition c1 0\.0–0\.5 s\]/,
    );
  }, 30000);

  test('a folder without a history: exit 2 and what is missing', () => {
    const r = checkCli(dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`no history.ndjson in ${dir}`);
  }, 30000);
});
