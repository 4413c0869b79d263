// Bundles every Lambda handler and the coordinator into dist/ with esbuild (CJS, node20,
// AWS SDK included) so serverless-offline and the coordinator processes start fast.
//
// `--if-changed` (what `npm start` runs): skip the build when dist/ was built from the
// same sources. A build records what it was made from in dist/build-inputs.json: the
// entry points, and a SHA-256 of every source file esbuild read (from its metafile) and
// of what decides the rest (package-lock.json, this script, the node version). A full
// build takes ~12 CPU-seconds on 2 cores; the check takes milliseconds.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stampFile = join(root, 'dist/build-inputs.json');
const ifChanged = process.argv.includes('--if-changed');
const unknown = process.argv.slice(2).filter((a) => a !== '--if-changed');
if (unknown.length > 0) {
  console.error(`usage: node scripts/build.mjs [--if-changed]\nunknown argument: ${unknown.join(' ')}`);
  process.exit(2);
}

execFileSync(process.execPath, [join(root, 'scripts/gen-lua.mjs')], { stdio: 'inherit' });
const functions = readdirSync(join(root, 'functions')).filter((f) => f.endsWith('.ts'));
const entries = [
  ...functions.map((f) => ({
    in: join('functions', f),
    out: join('dist/functions', f.replace(/\.ts$/, '.js')),
  })),
  { in: 'coordinator/main.ts', out: 'dist/coordinator/main.js' },
  // The secret-ballot verification worker, next to main.js where the pool looks for it.
  { in: 'shared/ballots-node/verify-worker.ts', out: 'dist/coordinator/verify-worker.js' },
];

const sha256 = (file) =>
  createHash('sha256')
    .update(readFileSync(join(root, file)))
    .digest('hex');
/** What every build depends on besides the bundled sources. */
const toolchain = () => ({
  node: process.version,
  'package-lock.json': sha256('package-lock.json'),
  'scripts/build.mjs': sha256('scripts/build.mjs'),
  'tsconfig.json': sha256('tsconfig.json'),
});

/** Why dist/ must be rebuilt, or null when it was built from exactly these sources. */
function staleReason() {
  if (!existsSync(stampFile)) return 'no record of an earlier build';
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return 'dist/build-inputs.json is unreadable';
  }
  if (JSON.stringify(stamp.entries) !== JSON.stringify(entries)) return 'the entry points changed';
  if (JSON.stringify(stamp.toolchain) !== JSON.stringify(toolchain()))
    return 'dependencies or the build changed';
  for (const e of entries) if (!existsSync(join(root, e.out))) return `${e.out} is missing`;
  for (const [file, hash] of Object.entries(stamp.inputs ?? {})) {
    if (!existsSync(join(root, file)) || sha256(file) !== hash) return `${file} changed`;
  }
  return null;
}

if (ifChanged) {
  const why = staleReason();
  if (why === null) {
    console.log('dist/ is up to date with the sources (scripts/build.mjs --if-changed)');
    process.exit(0);
  }
  console.log(`building dist/: ${why}`);
}

// A build that stops half-way leaves no record, so the next --if-changed builds again.
rmSync(stampFile, { force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  absWorkingDir: root,
  metafile: true,
  // Static pages (functions/client-page.html) are bundled as strings: no file reads at run time.
  loader: { '.html': 'text' },
};
const results = await Promise.all([
  build({ ...common, entryPoints: functions.map((f) => join('functions', f)), outdir: 'dist/functions' }),
  ...entries.slice(functions.length).map((e) => build({ ...common, entryPoints: [e.in], outfile: e.out })),
]);
const inputs = {};
for (const r of results) {
  for (const file of Object.keys(r.metafile.inputs)) {
    // node_modules are pinned by package-lock.json (in the toolchain record).
    // Virtual inputs (esbuild's "(disabled):…" and the like) are not files.
    if (file.includes('node_modules/') || file in inputs || !existsSync(join(root, file))) continue;
    inputs[file] = sha256(file);
  }
}
writeFileSync(stampFile, `${JSON.stringify({ entries, toolchain: toolchain(), inputs }, null, 1)}\n`);
