import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../stack';
import { type Engine, must, run } from './engine';

/**
 * The images of the containerized system, built with buildah where nothing can be
 * pulled: a Debian base made with debootstrap (cached as a tarball, like a package
 * cache), the node base tagged with the official name so the production Dockerfile is
 * the one built, Redis from Debian's packages, and the three targets of the Dockerfile.
 */

/** The official names the local stand-ins are tagged with. */
export const DEBIAN_IMAGE = 'docker.io/library/debian:bookworm-slim';
export const NODE_IMAGE = 'docker.io/library/node:22-bookworm-slim';

/** The images compose.yaml runs (the ones `down` removes with everything else). */
export const APP_IMAGES = {
  coordinator: 'localhost/quorumvote-coordinator:dev',
  functions: 'localhost/quorumvote-functions:dev',
  web: 'localhost/quorumvote-web:dev',
  redis: 'localhost/quorumvote-redis:dev',
} as const;

/** Debian packages of the Redis image (redis-server and what the bookworm base lacks). */
const REDIS_DEBS = [
  'redis-server',
  'redis-tools',
  'libjemalloc2',
  'liblzf1',
  'libatomic1',
  'libssl3',
  'lsb-base',
];

type Log = (line: string) => void;

const BUILD_TIMEOUT_MS = 15 * 60_000;

function buildArgs(file: string, tag: string, context: string, target?: string): string[] {
  return [
    'bud',
    '--isolation',
    'chroot',
    // Layers: the Dockerfile's build stage is built once for its three targets.
    '--layers',
    '--pull=never',
    // Without the docker format HEALTHCHECK is dropped from the image.
    '--format',
    'docker',
    '-f',
    file,
    ...(target ? ['--target', target] : []),
    '-t',
    tag,
    context,
  ];
}

/**
 * The debootstrapped Debian root as a tarball in `cacheDir`, made once (~1-2 min):
 * written under a temporary name and renamed, so a run that stops half-way never
 * leaves a broken cache.
 */
async function debianRootfs(engine: Engine, cacheDir: string, log: Log): Promise<string> {
  const tar = join(cacheDir, 'debian-bookworm-minbase.tar');
  if (existsSync(tar)) return tar;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = join(cacheDir, `rootfs-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  log('making the Debian bookworm base with debootstrap (once; cached in ' + cacheDir + ')…');
  try {
    await must(engine, 'debootstrap', ['--variant=minbase', 'bookworm', tmp], { timeoutMs: 10 * 60_000 });
    // What a slim image leaves out: package lists, docs, manuals.
    for (const sub of [
      'var/lib/apt/lists',
      'var/cache/apt',
      'usr/share/doc',
      'usr/share/man',
      'usr/share/info',
    ]) {
      rmSync(join(tmp, sub), { recursive: true, force: true });
      mkdirSync(join(tmp, sub), { recursive: true });
    }
    await must(engine, 'tar', ['-C', tmp, '-cf', `${tar}.part`, '.'], { timeoutMs: 5 * 60_000 });
    renameSync(`${tar}.part`, tar);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(`${tar}.part`, { force: true });
  }
  return tar;
}

async function imageExists(engine: Engine, name: string): Promise<boolean> {
  return (await run(engine, 'podman', ['image', 'exists', name])).code === 0;
}

/** The Debian and node base images under their official names. */
async function baseImages(engine: Engine, cacheDir: string, log: Log): Promise<void> {
  if (!(await imageExists(engine, DEBIAN_IMAGE))) {
    const tar = await debianRootfs(engine, cacheDir, log);
    log(`importing the Debian base as ${DEBIAN_IMAGE}…`);
    await must(engine, 'podman', ['import', '--change', 'CMD ["bash"]', tar, DEBIAN_IMAGE], {
      timeoutMs: BUILD_TIMEOUT_MS,
    });
  }
  if (!(await imageExists(engine, NODE_IMAGE))) {
    log(`building ${NODE_IMAGE} from the Debian base and this host's node…`);
    const ctx = join(engine.dir, 'ctx-node');
    rmSync(ctx, { recursive: true, force: true });
    mkdirSync(ctx, { recursive: true });
    copyFileSync(process.execPath, join(ctx, 'node'));
    // npm next to the running node (…/bin/node → …/lib/node_modules/npm).
    const npmDir = join(dirname(dirname(realpathSync(process.execPath))), 'lib/node_modules/npm');
    if (existsSync(npmDir)) cpSync(npmDir, join(ctx, 'npm'), { recursive: true });
    else mkdirSync(join(ctx, 'npm'));
    const file = join(repoRoot, 'local/containers/node-base.Dockerfile');
    await must(engine, 'buildah', buildArgs(file, NODE_IMAGE, ctx), { timeoutMs: BUILD_TIMEOUT_MS });
    rmSync(ctx, { recursive: true, force: true });
  }
}

/** The .deb files of the Redis image: from the host's apt cache, else downloaded by apt. */
async function redisDebs(engine: Engine, into: string): Promise<void> {
  mkdirSync(into, { recursive: true });
  const cache = '/var/cache/apt/archives';
  const cached = existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith('.deb')) : [];
  const missing: string[] = [];
  for (const pkg of REDIS_DEBS) {
    const file = cached.find((f) => f.startsWith(`${pkg}_`));
    if (file) copyFileSync(join(cache, file), join(into, file));
    else missing.push(pkg);
  }
  if (missing.length > 0)
    await must(engine, 'apt-get', ['download', ...missing], { cwd: into, timeoutMs: 5 * 60_000 });
}

/** Builds every image compose.yaml needs (the base images first, when missing). */
export async function buildImages(engine: Engine, cacheDir: string, log: Log): Promise<void> {
  await baseImages(engine, cacheDir, log);
  log('building the Redis image (Debian redis-server 7.0)…');
  const redisCtx = join(engine.dir, 'ctx-redis');
  rmSync(redisCtx, { recursive: true, force: true });
  cpSync(join(repoRoot, 'deploy/containers'), redisCtx, { recursive: true });
  await redisDebs(engine, join(redisCtx, 'debs'));
  await must(engine, 'buildah', buildArgs(join(redisCtx, 'redis.Dockerfile'), APP_IMAGES.redis, redisCtx), {
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  rmSync(redisCtx, { recursive: true, force: true });
  for (const target of ['coordinator', 'functions', 'web'] as const) {
    log(`building ${APP_IMAGES[target]} (Dockerfile target ${target})…`);
    await must(
      engine,
      'buildah',
      buildArgs(join(repoRoot, 'Dockerfile'), APP_IMAGES[target], repoRoot, target),
      {
        timeoutMs: BUILD_TIMEOUT_MS,
      },
    );
  }
}
