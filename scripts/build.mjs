// Bundles every Lambda handler and the coordinator into dist/ with esbuild (CJS, node20,
// AWS SDK included) so serverless-offline and the coordinator processes start fast.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts/gen-lua.mjs')], { stdio: 'inherit' });
const functions = readdirSync(join(root, 'functions')).filter((f) => f.endsWith('.ts'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  absWorkingDir: root,
  // Static pages (functions/client-page.html) are bundled as strings: no file reads at run time.
  loader: { '.html': 'text' },
};
await Promise.all([
  build({
    ...common,
    entryPoints: functions.map((f) => join('functions', f)),
    outdir: 'dist/functions',
  }),
  build({ ...common, entryPoints: ['coordinator/main.ts'], outfile: 'dist/coordinator/main.js' }),
  // The secret-ballot verification worker, next to main.js where the pool looks for it.
  build({
    ...common,
    entryPoints: ['shared/ballots-node/verify-worker.ts'],
    outfile: 'dist/coordinator/verify-worker.js',
  }),
]);
