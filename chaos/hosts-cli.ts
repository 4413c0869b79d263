import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../local/stack';
import { HostStack, agreedLeader } from './host-stack';
import { hostsDown, hostsUnavailableReason, hostsUp, listLinks, listNamespaces, topology } from './hosts';

/**
 * `npm run hosts -- up [--stack] | down | status`: builds the simulated hosts of the
 * chaos suite (one network namespace per Redis node and coordinator on a bridge), or
 * removes them and anything a crashed run left behind. `up --stack` also starts
 * quorumvote on them and keeps it running until Ctrl-C, which removes everything.
 */
async function main(): Promise<number> {
  const [cmd, ...flags] = process.argv.slice(2);
  const log = (m: string) => process.stdout.write(`${m}\n`);
  if (cmd === 'down') {
    const r = hostsDown(log);
    log(`removed ${r.namespaces} namespace(s) and ${r.links} link(s)`);
    return 0;
  }
  if (cmd === 'status') {
    log(`namespaces: ${listNamespaces().join(' ') || '(none)'}`);
    log(`links: ${listLinks().join(' ') || '(none)'}`);
    return 0;
  }
  if (cmd !== 'up') {
    process.stderr.write('usage: npm run hosts -- up [--stack] | down | status\n');
    return 2;
  }
  const why = hostsUnavailableReason();
  if (why) {
    process.stderr.write(`cannot build hosts: ${why}\n`);
    return 1;
  }
  const t = topology();
  hostsUp(t, log);
  if (!flags.includes('--stack')) {
    log('hosts are up; `npm run hosts -- down` removes them');
    return 0;
  }
  mkdirSync(join(repoRoot, '.local/chaos'), { recursive: true });
  const runDir = mkdtempSync(join(repoRoot, '.local/chaos/hosts-'));
  const stack = new HostStack({ topology: t, runDir, keyDir: join(runDir, 'keys'), log });
  const cleanup = async () => {
    await stack.stop();
    hostsDown(log);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));
  try {
    await stack.start();
  } catch (err) {
    await cleanup();
    throw err;
  }
  log(`stack up: API ${stack.apiUrl}, leader ${(await agreedLeader(t))?.leader.name ?? '(none yet)'}`);
  log(`logs in ${runDir}/logs; Ctrl-C stops everything and removes the hosts`);
  await new Promise(() => {});
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
