import { loadSettings } from '../shared/settings/load';
/**
 * Coordinator process entry point: `node dist/coordinator/main.js` with NODE_ID,
 * ADMIN_PORT, REDIS_SEEDS and COORDINATORS in the environment. SIGTERM / SIGINT stop
 * it gracefully (leadership handover, deregistration).
 */
import { createLogger, errorFields } from '../shared/logger';
import { loadCoordinatorConfig } from './config';
import { CoordinatorNode } from './node';
import { startProfiler } from './profiler';

const log = createLogger({ component: 'coordinator' });

async function main(): Promise<void> {
  const config = loadCoordinatorConfig();
  const stopProfiler = startProfiler(loadSettings().CPU_PROFILE);
  const node = new CoordinatorNode(config);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal, node: config.nodeId });
    const force = setTimeout(() => process.exit(1), 5000);
    node.stop().then(
      async () => {
        await stopProfiler();
        clearTimeout(force);
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await node.start();
}

main().catch((err: unknown) => {
  log.error('coordinator failed to start', errorFields(err));
  process.exit(1);
});
