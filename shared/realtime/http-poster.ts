import { Agent, request } from 'node:http';
import type { ConnectionPoster, PostOutcome } from './delivery';

/**
 * The Management API's two calls as plain keep-alive HTTP requests, for a local
 * endpoint (serverless-offline) only: it checks no signature, and the SDK's middleware
 * stack per post is CPU spent in the very process that serves the posts (the broadcast
 * function runs in serverless-offline's thread). On AWS the SigV4-signing SDK poster is
 * used (api-gateway-poster.ts).
 *
 * `POST <endpoint>/@connections/<id>` → 2xx delivered, 410 gone; `DELETE` closes.
 */
export function localHttpPoster(options: { endpoint: string; maxSockets: number }): ConnectionPoster {
  const url = new URL(options.endpoint);
  const base = url.pathname.replace(/\/+$/, '');
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets });
  const call = (method: 'POST' | 'DELETE', connectionId: string, data?: Uint8Array): Promise<PostOutcome> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port || 80,
          method,
          path: `${base}/@connections/${encodeURIComponent(connectionId)}`,
          agent,
          headers: data ? { 'content-type': 'application/octet-stream', 'content-length': data.length } : {},
          // Generous: locally the poster shares one busy process with the endpoint it posts to.
          timeout: 10000,
        },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          res.on('end', () => {
            if (status >= 200 && status < 300) resolve('ok');
            else if (status === 410) resolve('gone');
            else reject(new Error(`${method} @connections answered ${status}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} @connections timed out`)));
      req.on('error', reject);
      req.end(data);
    });
  return {
    post: (connectionId, data) => call('POST', connectionId, data),
    close: (connectionId) => call('DELETE', connectionId),
  };
}
