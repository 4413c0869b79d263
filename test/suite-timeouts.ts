/**
 * Test timeouts by kind of suite (run before each test file, see jest.config.js).
 *
 * The default is short, so a unit or integration test that hangs fails within
 * seconds instead of holding a worker for a minute. Suites that start whole stacks of
 * real processes (serverless-offline, coordinators, Chromium) get a longer default; a
 * test that needs more still says so itself.
 */
const SLOW_SUITE_TIMEOUT_MS = 60_000;

const testPath = expect.getState().testPath ?? '';
if (/[\\/]test[\\/](e2e|browser)[\\/]/.test(testPath)) jest.setTimeout(SLOW_SUITE_TIMEOUT_MS);

/**
 * SUITE_CPU_LOG=<file>: appends a JSON line when each test file starts and ends, with
 * this worker's CPU ticks so far (itself and every child it reaped: Redis, coordinators,
 * serverless-offline, Chromium). A file's cost is the ticks from its start to the next
 * start on the same worker (its own afterAll, which stops its processes, runs after the
 * one here): `node scripts/suite-cpu.mjs <file>` sums them up.
 */
const cpuLog = process.env['SUITE_CPU_LOG'];
if (cpuLog) {
  const { appendFileSync, readFileSync } = require('node:fs') as typeof import('node:fs');
  const mark = (event: string): void => {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    const file = testPath.replace(/.*[\\/]test[\\/]/, '');
    appendFileSync(cpuLog, `${JSON.stringify({ event, file, pid: process.pid, ticks, at: Date.now() })}\n`);
  };
  beforeAll(() => mark('start'));
  afterAll(() => mark('end'));
}
