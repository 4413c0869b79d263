import { join } from 'node:path';
import { repoRoot } from '../local/stack';
import { hostsUnavailableReason } from './hosts';
import { runChaos } from './run';
import { USAGE, parseRunArgs } from './run-options';

/**
 * `npm run chaos -- --duration 300 --seed N [--faults partition,kill,...]`: one chaos
 * run with a live progress display; exit code 0 only when the checker found no
 * violation (1: a violation, 2: bad usage or the hosts cannot be built here).
 */
async function main(): Promise<number> {
  let o: ReturnType<typeof parseRunArgs>;
  try {
    o = parseRunArgs(process.argv.slice(2), { outDir: join(repoRoot, '.local/chaos') });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const why = hostsUnavailableReason();
  if (why) {
    process.stderr.write(`cannot run the chaos suite here: ${why}\n`);
    return 2;
  }
  // Ctrl-C: stop the workload and the nemesis; runChaos heals, stops and removes everything.
  const abort = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nSIGINT: healing faults, stopping the stack, removing the hosts...\n');
    abort.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  process.once('SIGTERM', () => abort.abort());
  const r = await runChaos(o, { signal: abort.signal });
  process.stdout.write(`\n${r.summary}\n`);
  return abort.signal.aborted ? 130 : r.report.valid ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(
      `chaos run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
