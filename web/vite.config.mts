import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The web app. `npm start` builds it into web/dist and serves it with local/web-server.ts,
 * which also proxies /api → the HTTP API and /ws → the WebSocket API (same origin: no CORS).
 * For `npx vite web` during development the same proxies are set up here.
 */
const httpPort = Number(process.env['HTTP_PORT'] ?? 3000);
const wsPort = Number(process.env['WS_PORT'] ?? 3001);

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1000 },
  logLevel: 'warn',
  server: {
    proxy: {
      '/api': { target: `http://127.0.0.1:${httpPort}`, rewrite: (p) => p.replace(/^\/api/, '') },
      '/ws': { target: `ws://127.0.0.1:${wsPort}`, ws: true, rewrite: (p) => p.replace(/^\/ws/, '') },
    },
  },
});
