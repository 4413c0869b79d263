import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../local/stack';

/**
 * `node scripts/build.mjs --if-changed` (what npm start runs) skips the esbuild bundle
 * only when dist/ was built from the same sources, and rebuilds when any bundled source
 * changed. Run on a copy of the sources (two handlers instead of all) so that the real
 * dist/ of the other suites is never touched.
 */
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qv-build-'));
  for (const sub of ['scripts', 'shared', 'coordinator', 'functions']) {
    cpSync(join(repoRoot, sub), join(dir, sub), { recursive: true });
  }
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json'])
    cpSync(join(repoRoot, f), join(dir, f));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  for (const f of readdirSync(join(dir, 'functions'))) {
    if (f.endsWith('.ts') && f !== 'health.ts' && f !== 'votes-get.ts') rmSync(join(dir, 'functions', f));
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function build(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(dir, 'scripts/build.mjs'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const bundled = (): string[] =>
  readdirSync(join(dir, 'dist/functions'))
    .filter((f) => f.endsWith('.js'))
    .sort();

test('skips an unchanged build, rebuilds for a changed source, a new handler or a missing output', () => {
  const first = build('--if-changed');
  expect(first).toMatchObject({ code: 0 });
  expect(first.out).toContain('building dist/: no record of an earlier build');
  expect(bundled()).toEqual(['health.js', 'votes-get.js']);

  expect(build('--if-changed').out).toContain('dist/ is up to date with the sources');

  // A source the bundles import (not an entry point) changed: rebuilt.
  appendFileSync(join(dir, 'shared/clock.ts'), '\nexport const buildMarker = "changed-41f3";\n');
  const changed = build('--if-changed');
  expect(changed.out).toContain('building dist/: shared/clock.ts changed');
  expect(build('--if-changed').out).toContain('up to date');

  // A new handler is a new entry point.
  writeFileSync(
    join(dir, 'functions/extra.ts'),
    'export const handler = async () => ({ statusCode: 204 });\n',
  );
  expect(build('--if-changed').out).toContain('building dist/: the entry points changed');
  expect(bundled()).toEqual(['extra.js', 'health.js', 'votes-get.js']);

  // An output deleted by hand.
  rmSync(join(dir, 'dist/coordinator/main.js'));
  expect(build('--if-changed').out).toContain('building dist/: dist/coordinator/main.js is missing');
  expect(build('--if-changed').out).toContain('up to date');

  // Without the flag it always builds; a bad argument is refused.
  expect(build().out).not.toContain('up to date');
  const bad = build('--if-changd');
  expect(bad.code).toBe(2);
  expect(bad.out).toContain('unknown argument: --if-changd');
}, 120_000);
