/**
 * `npm run load -- --voters N --rate R --duration D [options]`: the load generator.
 *
 * Creates and opens an election (or reuses one), mints voter tokens with the local
 * identity provider's key, submits one vote per voter on a steady paced schedule over
 * HTTP or by direct Lambda invoke (retrying 503s with the same Idempotency-Key), waits
 * until every accepted vote is decided, and prints a summary. Local stacks only.
 *
 * The parts live in bench/load/: options (command line), http-client, submitters,
 * progress, stack-reads, run, summary and report.
 */
import { UsageError } from '../local/cli';
import { RunError } from './load/errors';
import { HELP } from './load/help';
import { type LoadOptions, parseOptions } from './load/options';
import { run } from './load/run';

async function main(): Promise<void> {
  let o: LoadOptions | 'help';
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`load: ${e.message}\nRun with --help for usage.\n`);
      process.exit(2);
    }
    throw e;
  }
  if (o === 'help') {
    process.stdout.write(HELP);
    return;
  }
  try {
    process.exitCode = await run(o);
  } catch (e) {
    if (e instanceof RunError) {
      process.stderr.write(`\nload: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
  // Keep-alive sockets and the SDK's agents would hold the process open.
  process.exit(process.exitCode);
}

main().catch((e: unknown) => {
  process.stderr.write(`load: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
