import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../local/ports';

/**
 * Every command-line tool parses its flags the same way (local/cli.ts): an unknown
 * flag, a missing value or a bad value is refused with one line naming it and exit 2,
 * before anything runs; `--help` prints the usage and exits 0. And every tool reads
 * the same settings as the stack it talks to (HTTP_PORT, REDIS_BASE_PORT).
 */
const root = join(__dirname, '../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tool(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, file), ...args],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'error', ...env }, timeout: 60000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

describe('command-line tools: one argument parser', () => {
  test.each<[string, string[], RegExp]>([
    ['local/verify.ts', ['el1234', '--bogus'], /^Unknown option '--bogus'$/m],
    ['local/verify.ts', ['el1234', '--receipt'], /^--receipt needs a value$/m],
    ['local/verify.ts', ['el1234', 'el5678'], /^Unexpected argument "el5678"$/m],
    ['local/status.ts', ['--jsn'], /^Unknown option '--jsn'$/m],
    ['local/status.ts', ['--timeout', '0'], /^--timeout must be a number > 0, got "0"$/m],
    ['local/redis-cluster-cli.ts', ['restart'], /^Unknown command "restart"/m],
    ['local/redis-cluster-cli.ts', ['status', '--base-port', 'x'], /^--base-port must be an integer/m],
    ['local/redis-cluster-cli.ts', ['stop', '--fresh'], /^--fresh only applies to start$/m],
    ['local/trustee.ts', ['ceremony', '--election', 'el1234', '--bogus'], /^Unknown option '--bogus'$/m],
    [
      'local/trustee.ts',
      ['decrypt', '--timeout-s', 'soon'],
      /^--timeout-s must be a number > 0, got "soon"$/m,
    ],
    ['local/voter.ts', ['cast', '--election', 'el1234', '--key-file', 'k.json'], /^--option is required$/m],
    ['local/voter.ts', ['vote', '--election', 'el1234'], /^unknown command vote$/m],
    ['bench/run-all.ts', ['pipelin'], /^Unknown benchmark "pipelin"$/m],
    ['bench/run-all.ts', ['--fast'], /^Unknown option '--fast'$/m],
    ['bench/mutex.ts', ['--second', '3'], /^Unknown option '--second'$/m],
    ['bench/pipeline.ts', ['--votes', 'many'], /^--votes must be an integer >= 1, got "many"$/m],
    ['bench/failover.ts', ['--trials', '0'], /^--trials must be an integer >= 1, got "0"$/m],
    ['bench/login-cost.ts', ['--runs'], /^--runs needs a value$/m],
  ])('%s %j: exit 2 naming the problem, then the usage', async (file, args, message) => {
    const r = await tool(file, args);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
    expect(r.stderr).toMatch(/^Usage: /m);
    // Nothing ran: no measurement, no summary of earlier results.
    expect(r.stdout).toBe('');
  });

  test.each([
    ['local/verify.ts', '--receipt'],
    ['local/status.ts', '--timeout'],
    ['local/redis-cluster-cli.ts', '--base-port'],
    ['local/trustee.ts', '--key-file'],
    ['local/voter.ts', 'challenge'],
    ['bench/run-all.ts', 'redis-failover'],
    ['bench/http.ts', '--concurrency'],
  ])('%s --help: the usage on stdout, exit 0', async (file, mentions) => {
    const r = await tool(file, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: /);
    expect(r.stdout).toContain(mentions);
  });

  test('the CLIs call the ports the stack was moved to (HTTP_PORT, REDIS_BASE_PORT)', async () => {
    const port = await freePort();
    const verify = await tool('local/verify.ts', ['el1234', '--token', 'x.y.z'], { HTTP_PORT: String(port) });
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`http://127.0.0.1:${port}`);
    const status = await tool('local/status.ts', ['--json', '--timeout', '300'], {
      REDIS_BASE_PORT: String(port),
      REDIS_SEEDS: '',
    });
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).redis.seeds).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port},`));
  });

  test('a bad setting stops a CLI at start, naming the variable', async () => {
    const r = await tool('local/verify.ts', ['el1234'], { HTTP_PORT: 'eighty' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Bad setting: HTTP_PORT must be an integer from 1 to 65535, got "eighty"');
  });
});
