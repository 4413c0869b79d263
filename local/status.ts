/**
 * `npm run status [-- --redis 127.0.0.1:7000,... --json]`: the whole cluster at a glance.
 *
 * - Coordinators: every record in `{qv}:members` plus each one's `GET /status` (role,
 *   term, leader, heartbeat age, clock offset, sync state, Redis reachability).
 * - Redis Cluster: every node it announces (CLUSTER NODES of the first seed that
 *   answers), checked with `clusterHealth` (roles, replicas online, slot coverage).
 * - What is wrong, in plain words: no leader, two leaders, disagreement about the
 *   leader, no majority, a member down / unhealthy / cut off from Redis / out of
 *   sync, Redis problems.
 *
 * Exit code 0 when healthy, 1 when anything is wrong, 2 on bad usage.
 *
 * Three steps: read every fact (status/read.ts), diagnose them (status/diagnose.ts,
 * pure), render the report (status/render.ts) or print it as JSON.
 */
import { UsageError, numberFlag, parseFlags, runCli, stringFlag } from './cli';
import { type RedisSeed, parseSeeds } from '../shared/config';
import { loadSettings } from '../shared/settings/load';
import { redisSeedsText } from '../shared/settings/schema';
import { diagnose } from './status/diagnose';
import { readStatusFacts } from './status/read';
import { render } from './status/render';

interface Options {
  seeds: RedisSeed[];
  json: boolean;
  timeoutMs: number;
}

function usage(): string {
  return [
    'Usage: npm run status -- [--redis host:port,...] [--json] [--timeout ms]',
    '  --redis    Redis Cluster seeds (default: REDIS_SEEDS, else the first 6 ports from REDIS_BASE_PORT, 7000)',
    '  --json     print the report as JSON',
    '  --timeout  per-request timeout in ms (default 1500)',
    '  -h, --help this text',
    'Exit code: 0 healthy, 1 something is wrong.',
  ].join('\n');
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Options {
  const flags = parseFlags(argv, {
    redis: { type: 'string' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  const seedsText = stringFlag(flags, 'redis') ?? redisSeedsText(loadSettings(env), 6);
  const json = flags.values['json'] === true;
  const timeoutMs = numberFlag(flags, 'timeout', { above: 0 }) ?? 1500;
  let seeds: RedisSeed[];
  try {
    seeds = parseSeeds(seedsText);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (seeds.length === 0) throw new UsageError('--redis needs at least one host:port');
  return { seeds, json, timeoutMs };
}

runCli({
  parse: parseArgs,
  usage,
  run: async (o) => {
    const report = diagnose(await readStatusFacts(o.seeds, o.timeoutMs));
    console.log(o.json ? JSON.stringify(report, null, 2) : render(report));
    return report.healthy ? 0 : 1;
  },
});
