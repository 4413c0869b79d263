import { spawn } from 'node:child_process';
import { repoRoot } from '../../local/stack';

/** What one run of the load generator printed, and its exit code. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the load generator to its end (its own timeout: `timeoutMs`). */
export function load(args: string[], env: Record<string, string>, timeoutMs = 90000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load generator still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The count of a row of the summary table, e.g. "accepted (202)". */
export function row(stdout: string, label: string): number {
  const escaped = label.replace(/[()]/g, '\\$&');
  const m = new RegExp(`^\\s+${escaped}\\s+(\\d+)\\s*$`, 'm').exec(stdout);
  if (!m) throw new Error(`no "${label}" row in:\n${stdout}`);
  return Number(m[1]);
}
