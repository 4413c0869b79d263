import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A child process that the code which started it also stops: SIGTERM first, SIGKILL
 * after a grace period. Used by the stack launcher and the test harness so nothing is
 * ever left behind.
 */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  stop(graceMs?: number): Promise<void>;
  /** Sends a raw signal (fault injection: SIGKILL, SIGSTOP, SIGCONT). */
  signal(sig: NodeJS.Signals): void;
  readonly alive: boolean;
  /** True once `stop()` was called: an exit after that is expected, not a failure. */
  readonly stopRequested: boolean;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with every output line (stdout and stderr). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

const live = new Set<ManagedProcess>();

export function spawnManaged(
  name: string,
  cmd: string,
  args: string[],
  opts: SpawnOptions = {},
): ManagedProcess {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`Could not start ${name} (${cmd})`);
  let alive = true;
  let stopRequested = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, sig) => {
      alive = false;
      live.delete(proc);
      resolve(code ?? sig ?? 'unknown');
    });
    child.once('error', () => {
      alive = false;
      live.delete(proc);
      resolve('error');
    });
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    const rl = createInterface({ input: child[stream]! });
    rl.on('line', (line) => opts.onLine?.(line, stream));
  }
  const proc: ManagedProcess = {
    name,
    child,
    pid: child.pid,
    exited,
    get alive() {
      return alive;
    },
    get stopRequested() {
      return stopRequested;
    },
    signal(sig) {
      if (alive) child.kill(sig);
    },
    async stop(graceMs = 5000) {
      stopRequested = true;
      if (!alive) return;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(proc);
  return proc;
}

/**
 * Calls `onExit` once for the first of `procs` that ends without having been asked to
 * stop (a crash, an OOM kill, a stray SIGKILL): a launcher must not report "running"
 * while a part of the stack is gone.
 */
export function onUnexpectedExit(
  procs: Iterable<ManagedProcess>,
  onExit: (p: ManagedProcess, code: number | string) => void,
): void {
  let reported = false;
  for (const p of procs) {
    void p.exited.then((code) => {
      if (reported || p.stopRequested) return;
      reported = true;
      onExit(p, code);
    });
  }
}

/** Stops every process this module started that still runs (gracefully, newest first). */
export async function stopAllManaged(graceMs = 5000): Promise<void> {
  for (const p of [...live].reverse()) await p.stop(graceMs);
}

/** Last-resort cleanup: kills every process this module started and that still runs. */
export function killAllManaged(): void {
  for (const p of live) p.signal('SIGKILL');
}

process.once('exit', killAllManaged);

/**
 * For command-line programs that start processes (benchmarks, tools): on Ctrl-C or
 * SIGTERM, stop every started process gracefully, then exit with 130 (or 143). The
 * default signal action would exit without running the 'exit' handler above.
 */
export function stopManagedOnSignals(graceMs = 3000): void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping the processes this program started...\n`);
    void stopAllManaged(graceMs).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
