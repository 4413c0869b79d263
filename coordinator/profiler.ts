import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/**
 * Optional CPU profiling of a coordinator (`CPU_PROFILE=/path/file.cpuprofile`): the
 * profile is written on graceful shutdown and opens in Chrome DevTools. `--cpu-prof`
 * does not survive our signal-driven exit, hence this.
 */
export function startProfiler(path: string | undefined): () => Promise<void> {
  if (!path) return async () => {};
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  return () =>
    new Promise<void>((resolve) => {
      session.post('Profiler.stop', (err, res) => {
        if (!err) writeFileSync(path, JSON.stringify(res.profile));
        session.disconnect();
        resolve();
      });
    });
}
