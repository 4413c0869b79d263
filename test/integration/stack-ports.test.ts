import { type Server, createServer } from 'node:net';
import { findFreePortRange, freePort } from '../../local/ports';
import { startCoordinator, startOffline } from '../../local/stack';

/**
 * A launcher waits for a child's port to answer. A port somebody else already holds
 * answers at once: that must be an error naming the port, never "started" (the child
 * would die a moment later with EADDRINUSE while the stack reports itself running).
 */
function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

describe('stack launcher: a taken port is not a started child', () => {
  test('coordinator', async () => {
    const port = await freePort();
    const blocker = await occupy(port);
    try {
      await expect(
        startCoordinator({ nodeId: 'c1', adminPort: port, redisSeeds: '127.0.0.1:1', members: ['c1'] }),
      ).rejects.toThrow(`Cannot start coordinator c1: port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  test('serverless-offline', async () => {
    const base = await findFreePortRange(3);
    const blocker = await occupy(base + 2);
    try {
      await expect(
        startOffline({ httpPort: base, wsPort: base + 1, lambdaPort: base + 2, redisSeeds: '127.0.0.1:1' }),
      ).rejects.toThrow(`Cannot start serverless-offline: port ${base + 2} is already in use`);
    } finally {
      blocker.close();
    }
  });
});
