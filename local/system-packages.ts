import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Makes sure a Debian package's programs exist: installs the package with apt when we
 * are root on Debian (as on a fresh machine of this project's kind), otherwise explains
 * the exact command. Used for redis-server (the stack, the tests) and chromium (the
 * browser tests), so the README's two commands work on a fresh machine.
 */
export function ensureDebianPackage(
  pkg: string,
  bins: string[],
  log: (m: string) => void = console.log,
): void {
  const has = (bin: string): boolean => {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (bins.every(has)) return;
  const cmd = `apt-get update && apt-get install -y ${pkg}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/etc/debian_version')) {
    log(`${pkg} is missing; installing it: ${cmd}`);
    execFileSync('sh', ['-c', cmd], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return;
  }
  throw new Error(`${pkg} is not installed. Install it with:\n  sudo ${cmd}`);
}
