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
