/**
 * `npm run containers -- up | test | down`: the whole system as containers (compose.yaml)
 * with podman, buildah and podman-compose, no Docker daemon or registry needed.
 *   up    builds the images and starts everything; prints the addresses
 *   test  up, the smoke test through the HTTP API (docs/deploy.md "Containers"), down
 *   down  removes all that up made: containers, network, images, host nft tables
 */
import { join } from 'node:path';
import { mintToken } from '../shared/auth/tokens';
import { UsageError, parseFlags, stringFlag, runCli } from './cli';
import { createEngine, type Engine, whyContainersUnavailable } from './containers/engine';
import { buildImages } from './containers/images';
import { smokeTest } from './containers/smoke';
import { COORDINATOR_IDS, containerAddress, down, readState, up } from './containers/system';
import { repoRoot } from './stack';

type Command = 'up' | 'test' | 'down';

interface Options {
  command: Command;
  dir: string;
  cacheDir: string;
  project: string;
  keep: boolean;
}

function usage(): string {
  return [
    'Usage: npm run containers -- up|test|down [--dir DIR] [--project NAME] [--keep]',
    '  up         build the images, start the system (6 Redis, 3 coordinators, functions, web)',
    '  test       up, smoke test through the HTTP API (leader killed and stopped), then down',
    '  down       remove the containers, network, images and host firewall tables it made',
    '  --dir      state folder: images, containers, keys (default .local/containers/state)',
    '  --project  compose project name: prefix of container names (default quorumvote)',
    '  --keep     test: leave the system up afterwards (then run down)',
    '  -h, --help this text',
    'The Debian base (debootstrap) is cached in .local/containers/cache.',
    'Exit code: 0 done, 1 failed, 2 bad usage, 3 the container tools are not available here.',
  ].join('\n');
}

function parse(argv: string[]): Options {
  const flags = parseFlags(
    argv,
    { dir: { type: 'string' }, project: { type: 'string' }, keep: { type: 'boolean' } },
    1,
  );
  const command = flags.positionals[0];
  if (command !== 'up' && command !== 'test' && command !== 'down') {
    throw new UsageError(command ? `Unknown command "${command}". Use up, test or down.` : 'Give a command.');
  }
  const project = stringFlag(flags, 'project') ?? 'quorumvote';
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(project)) {
    throw new UsageError(
      `--project must be 1-31 of a-z 0-9 - (starting with a letter or digit), got "${project}"`,
    );
  }
  const keep = flags.values['keep'] === true;
  if (keep && command !== 'test') throw new UsageError('--keep only applies to test');
  return {
    command,
    dir: stringFlag(flags, 'dir') ?? join(repoRoot, '.local/containers/state'),
    cacheDir: join(repoRoot, '.local/containers/cache'),
    project,
    keep,
  };
}

const log = (line: string): void => console.log(`containers | ${line}`);

async function printAddresses(engine: Engine, keyDir: string): Promise<void> {
  const api = await containerAddress(engine, 'functions');
  const web = await containerAddress(engine, 'web');
  log(`web app      http://${web}:8080`);
  log(`HTTP API     http://${api}:3000   WebSocket ws://${api}:3001`);
  for (const [id, service] of Object.entries(COORDINATOR_IDS)) {
    log(`coordinator  ${id} http://${await containerAddress(engine, service)}:4000/status`);
  }
  const admin = await mintToken({ sub: 'containers-admin', role: 'admin' }, { keyDir, ttlS: 3600 });
  log(`an admin token (1 h): ${admin}`);
}

async function run(o: Options): Promise<number> {
  const engine = createEngine(o.dir, o.project);
  if (o.command === 'down') {
    await down(engine, log);
    return 0;
  }
  const why = whyContainersUnavailable();
  if (why) {
    console.error(`containers: cannot run here: ${why}`);
    return 3;
  }
  if (readState(engine))
    throw new Error(`a system is already up in ${o.dir}: run \`npm run containers -- down\` first`);
  const tearDown = async (): Promise<void> => {
    await down(engine, log).catch((err: unknown) => log(`cleaning up failed: ${String(err)}`));
  };
  // Ctrl-C or a test runner's SIGTERM during `test` still removes everything.
  const onSignal = (): void => {
    if (o.command === 'test' && !o.keep) void tearDown().then(() => process.exit(1));
    else process.exit(1);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = Date.now();
  try {
    await buildImages(engine, o.cacheDir, log);
    log(`images built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const state = await up(engine, log);
    if (o.command === 'up') {
      await printAddresses(engine, state.keyDir);
      log('up: stop it with `npm run containers -- down`');
      return 0;
    }
    await smokeTest(engine, state, log);
    log(`test passed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    return 0;
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
    if (o.command === 'up') await tearDown();
    return 1;
  } finally {
    if (o.command === 'test' && !o.keep) await tearDown();
  }
}

runCli({ parse, usage, run });
