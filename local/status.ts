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
import { UsageError, runCli } from './cli';
import { type RedisSeed, parseSeeds } from '../shared/config';
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
    '  --redis    Redis Cluster seeds (default: REDIS_SEEDS, else 127.0.0.1:7000-7005)',
    '  --json     print the report as JSON',
    '  --timeout  per-request timeout in ms (default 1500)',
    'Exit code: 0 healthy, 1 something is wrong.',
  ].join('\n');
}

function parseArgs(argv: string[]): Options {
  let seedsText =
    process.env['REDIS_SEEDS'] || [0, 1, 2, 3, 4, 5].map((i) => `127.0.0.1:${7000 + i}`).join(',');
  let json = false;
  let timeoutMs = 1500;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--redis') seedsText = value();
    else if (a.startsWith('--redis=')) seedsText = a.slice('--redis='.length);
    else if (a === '--json') json = true;
    else if (a === '--timeout') timeoutMs = Number(value());
    else if (a === '--help' || a === '-h') throw new UsageError('');
    else throw new UsageError(`Unknown option ${a}`);
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new UsageError('--timeout needs a positive number');
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
