/**
 * Entry point of the web container (Dockerfile target `web`): serves the built app
 * and proxies /api and /ws to the functions at WEB_API_HOST, as `npm start`'s web
 * server does on one machine. SIGTERM closes it.
 */
import { join } from 'node:path';
import { loadSettings } from '../shared/settings/load';
import { startWebServer } from './web-server';

async function main(): Promise<void> {
  const s = loadSettings();
  const web = await startWebServer({
    port: s.WEB_PORT,
    host: s.WEB_HOST,
    apiHost: s.WEB_API_HOST,
    httpPort: s.HTTP_PORT,
    wsPort: s.WS_PORT,
    // The image puts the built app next to the bundled server (/app/web, /app/web-server).
    dist: join(__dirname, '..', 'web'),
  });
  process.stdout.write(`web app on ${web.url}, API at ${s.WEB_API_HOST}:${s.HTTP_PORT}\n`);
  const stop = (): void => {
    void web.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`web server failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
