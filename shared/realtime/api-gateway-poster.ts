import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { isLocalEndpoint } from './config';
import type { ConnectionPoster, PostOutcome } from './delivery';
import { localHttpPoster } from './http-poster';

/**
 * The {@link ConnectionPoster} over API Gateway's Management API
 * (`PostToConnection`), SigV4-signed. A gone connection shows up as HTTP 410 in
 * `$metadata.httpStatusCode` (serverless-offline does not send a `GoneException`).
 * Against a local endpoint the same two calls go as plain keep-alive HTTP requests
 * (http-poster.ts): no SDK middleware per post in the one process that also serves
 * the posts.
 */
export function apiGatewayPoster(options: {
  endpoint: string;
  region: string;
  maxSockets: number;
}): ConnectionPoster {
  const local = isLocalEndpoint(options.endpoint);
  if (local) {
    return localHttpPoster({ endpoint: options.endpoint, maxSockets: options.maxSockets });
  }
  const client = new ApiGatewayManagementApiClient({
    endpoint: options.endpoint,
    region: options.region,
    maxAttempts: 2,
    // One command type, no per-call middleware: reuse the resolved stack (measured ~10-40% more posts/s).
    cacheMiddleware: true,
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: options.maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: options.maxSockets }),
      connectionTimeout: 5000,
      requestTimeout: 10000,
    },
  });
  const outcome = (err: unknown): PostOutcome => {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e?.$metadata?.httpStatusCode === 410 || e?.name === 'GoneException') return 'gone';
    throw err;
  };
  return {
    async post(connectionId, data) {
      try {
        await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
        return 'ok';
      } catch (err) {
        return outcome(err);
      }
    },
    async close(connectionId) {
      try {
        await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
        return 'ok';
      } catch (err) {
        return outcome(err);
      }
    },
  };
}
