import { freePort } from '../../local/ports';
import { spawnManaged } from '../../local/processes';
import { waitStarted } from '../../local/stack';

/**
 * A process that does not open its port in time is stopped by the start that gave up on
 * it: the caller never got a handle, so nothing else could stop it (a test cluster whose
 * coordinator timed out under load was left running and held Jest open).
 */
describe('waitStarted', () => {
  test('a process that never opens its port is stopped when the wait gives up', async () => {
    const port = await freePort();
    const proc = spawnManaged('idle', process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      await expect(
        waitStarted(proc, [port], 300, async (code) => {
          throw new Error(`exited during start (${code})`);
        }),
      ).rejects.toThrow();
      expect(proc.alive).toBe(false);
    } finally {
      if (proc.alive) await proc.stop();
    }
  });

  test('a process that exits during start is reported by the exit, not the timeout', async () => {
    const port = await freePort();
    const proc = spawnManaged('quits', process.execPath, ['-e', 'process.exit(3)']);
    await expect(
      waitStarted(proc, [port], 10_000, async (code) => {
        throw new Error(`exited during start (${code})`);
      }),
    ).rejects.toThrow('exited during start (3)');
    expect(proc.alive).toBe(false);
  });
});
