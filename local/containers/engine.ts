import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The daemonless container tools (podman, buildah, podman-compose) configured for one
 * state folder: their images, containers and network definitions live under it and
 * nowhere else, so `down` can remove everything it made and two runs never see each
 * other's containers. The settings are the ones verified on this kind of machine
 * (design/STACK.md "Containers"): runc, overlay storage, raised default ulimits.
 */
export interface Engine {
  /** The state folder (storage, run state, network definitions, state.json). */
  dir: string;
  /** The compose project: container and network names start with it. */
  project: string;
  /** Environment for every podman/buildah/podman-compose call. */
  env: NodeJS.ProcessEnv;
}

/** The programs the containerized system needs, with the Debian package of each. */
export const CONTAINER_TOOLS: readonly { bin: string; pkg: string }[] = [
  { bin: 'podman', pkg: 'podman' },
  { bin: 'buildah', pkg: 'buildah' },
  { bin: 'podman-compose', pkg: 'podman-compose' },
  { bin: 'runc', pkg: 'runc' },
  { bin: 'debootstrap', pkg: 'debootstrap' },
  { bin: 'nft', pkg: 'nftables' },
];

/** The apt command that installs the tools (what CI runs, what the skip message says). */
export const INSTALL_COMMAND = `apt-get install -y ${[...new Set(CONTAINER_TOOLS.map((t) => t.pkg))].join(' ')}`;

function onPath(bin: string): boolean {
  const dirs = (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => d && existsSync(join(d, bin)));
}

/**
 * Why the containerized system cannot run here, or null when it can: the tools must be
 * installed and we must be root (rootful podman: container addresses reachable from
 * the host, bridge networks without slirp).
 */
export function whyContainersUnavailable(): string | null {
  if (process.platform !== 'linux') return `containers need Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'containers need root (rootful podman; the host reaches container addresses)';
  }
  const missing = CONTAINER_TOOLS.filter((t) => !onPath(t.bin)).map((t) => t.bin);
  if (missing.length > 0) return `missing ${missing.join(', ')} (install: ${INSTALL_COMMAND})`;
  return null;
}

/** Writes the tools' configuration into `dir` and returns the engine using it. */
export function createEngine(dir: string, project: string): Engine {
  const root = resolve(dir);
  for (const sub of ['storage', 'run', 'networks', 'tmp']) mkdirSync(join(root, sub), { recursive: true });
  const conf = join(root, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      // Without both limits runc cannot set rlimits here ("error setting rlimit type 7").
      'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]',
      '[engine]',
      // crun is absent and fails on this cgroup setup.
      'runtime = "runc"',
      `tmp_dir = "${join(root, 'tmp')}"`,
      '[network]',
      `network_config_dir = "${join(root, 'networks')}"`,
      '',
    ].join('\n'),
  );
  const storage = join(root, 'storage.conf');
  writeFileSync(
    storage,
    [
      '[storage]',
      // overlay: vfs copies every image per container and is 5-20x slower.
      'driver = "overlay"',
      `graphroot = "${join(root, 'storage')}"`,
      `runroot = "${join(root, 'run')}"`,
      '',
    ].join('\n'),
  );
  return {
    dir: root,
    project,
    env: {
      ...process.env,
      CONTAINERS_CONF: conf,
      CONTAINERS_STORAGE_CONF: storage,
      TMPDIR: join(root, 'tmp'),
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Killed (SIGKILL) after this long; the result then has code 124. */
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Fed to stdin. */
  input?: string;
  /** Called with each chunk of output as it comes (progress of long builds). */
  onOutput?: (text: string) => void;
}

/** Runs a program with the engine's environment; never throws for a non-zero exit. */
export function run(engine: Engine, cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd: o.cwd,
      env: { ...engine.env, ...o.env },
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
      o.onOutput?.(c.toString());
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      o.onOutput?.(c.toString());
    });
    if (o.input !== undefined) child.stdin?.end(o.input);
    let timedOut = false;
    const timer = o.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, o.timeoutMs)
      : undefined;
    child.once('error', (err) => {
      clearTimeout(timer);
      done({ code: 127, stdout, stderr: `${stderr}${err.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code: timedOut ? 124 : (code ?? 1), stdout, stderr });
    });
  });
}

/** Like {@link run}, but a non-zero exit is an error naming the command and its output. */
export async function must(engine: Engine, cmd: string, args: string[], o: RunOptions = {}): Promise<string> {
  const r = await run(engine, cmd, args, o);
  if (r.code !== 0) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${cmd} ${args.slice(0, 4).join(' ')} failed (exit ${r.code}):\n${tail}`);
  }
  return r.stdout;
}
