import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { whyContainersUnavailable } from '../../local/containers/engine';
import { repoRoot } from '../../local/stack';

/**
 * `npm run containers -- test` as a user runs it: the production Dockerfile and
 * compose.yaml built and started with podman (6 Redis nodes, 3 coordinators, the
 * functions, the web app, each with its own address), the smoke test through the HTTP
 * API (leader killed, leader stopped, totals exact), then everything removed. Where
 * the container tools are missing the test is skipped and says why (never silently).
 */
const why = whyContainersUnavailable();
if (why) {
  // Printed in the jest output of this file: a skip is always visible, with its reason.
  console.warn(`SKIPPED the containers test (test/e2e/containers.test.ts): ${why}`);
}
const maybe = why ? test.skip : test;

/** A command's standard output ('' when it cannot run). */
function output(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
    });
    child.once('error', () => resolve(''));
    child.once('close', () => resolve(text));
  });
}

/** Builds on a loaded 2-core machine take minutes; the CLI bounds each step itself. */
const TIMEOUT_MS = 25 * 60_000;

describe('the containerized system (npm run containers -- test)', () => {
  maybe(
    'builds, starts, survives a killed and a stopped leader with exact totals, and removes everything',
    async () => {
      const tablesBefore = await output('nft', ['list', 'tables']);
      const dir = mkdtempSync(join(tmpdir(), 'qv-containers-'));
      const project = `qvt${Math.random().toString(36).slice(2, 8)}`;
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'local/containers-cli.ts', 'test', '--dir', dir, '--project', project],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        out += c.toString();
      });
      let timer: NodeJS.Timeout | undefined;
      const code = await new Promise<number | string>((resolve) => {
        child.once('exit', (c, sig) => resolve(c ?? sig ?? 'unknown'));
        // The CLI removes everything on SIGTERM too.
        timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS - 120_000);
      });
      clearTimeout(timer);
      if (code !== 0) throw new Error(`npm run containers -- test exited ${code}:\n${out.slice(-6000)}`);
      expect(out).toContain('smoke test passed');
      expect(out).toMatch(/stopped the leader's container \(c\d, SIGTERM\): exit 0/);
      expect(out).toContain('down: nothing left');
      // Nothing of the run is left on the host: no container network bridge of it, no state.
      const links = await output('ip', ['-o', 'link']);
      const bridge = /network \S+ on \S+ \(bridge (\w+)\)/.exec(out)?.[1];
      expect(bridge).toBeDefined();
      expect(links).not.toContain(`${bridge}:`);
      expect(existsSync(dir)).toBe(false);
      // The firewall tables netavark added on the host are gone again.
      const tablesAfter = (await output('nft', ['list', 'tables'])).split('\n').filter(Boolean);
      expect(tablesAfter.filter((t) => !tablesBefore.includes(t))).toEqual([]);
    },
    TIMEOUT_MS,
  );
});
