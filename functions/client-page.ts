import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import page from './client-page.html';

/**
 * `GET /client`: a plain HTML test client (no build step, no dependencies) that signs
 * in, connects to the WebSocket API, subscribes to topics and shows the events. The
 * page is bundled into this function as text (esbuild's text loader).
 */
function wsUrl(env: NodeJS.ProcessEnv): string {
  if (env['WS_PUBLIC_URL']) return env['WS_PUBLIC_URL'];
  return (env['WS_ENDPOINT'] || 'http://127.0.0.1:3001').replace(/^http/, 'ws');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const html = page.replace('__WS_URL__', escapeHtml(wsUrl(process.env)));

export async function handler(): Promise<APIGatewayProxyStructuredResultV2> {
  // No work to skip: a warm-up invoke gets the page like anyone.
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body: html,
  };
}
