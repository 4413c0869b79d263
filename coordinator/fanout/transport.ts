import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { isLocalEndpoint } from '../../shared/realtime/config';
import type { BroadcastRequest } from '../../shared/realtime/events';
import { invokeSecret, signInvoke } from '../../shared/realtime/invoke-auth';
import type { FanoutConfig } from './config';

/** Hands a batch of events to whatever delivers them (the port the fan-out talks to). */
export interface BroadcastTransport {
  send(request: BroadcastRequest): Promise<void>;
}

/**
 * Invokes the `broadcast` function asynchronously (InvocationType `Event`): the
 * coordinator never waits for delivery. Locally this is serverless-offline's invoke
 * port with dummy credentials.
 */
export function lambdaTransport(config: FanoutConfig): BroadcastTransport {
  const endpoint = config.lambdaEndpoint;
  const local = endpoint !== undefined && isLocalEndpoint(endpoint);
  const client = new LambdaClient({
    region: config.region,
    maxAttempts: 2,
    cacheMiddleware: true,
    requestHandler: {
      httpAgent: new Agent({ keepAlive: true, maxSockets: 16 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 16 }),
      connectionTimeout: 1000,
      requestTimeout: 3000,
    },
    ...(endpoint ? { endpoint } : {}),
    ...(local
      ? {
          credentials: {
            accessKeyId: process.env['AWS_ACCESS_KEY_ID'] || 'local',
            secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] || 'local',
          },
        }
      : {}),
  });
  // Signed when INVOKE_SECRET is set (npm start sets one): see shared/realtime/invoke-auth.ts.
  const secret = invokeSecret();
  return {
    async send(request) {
      const payload = secret
        ? signInvoke(secret, { ...request, sentAt: request.sentAt ?? Date.now() })
        : request;
      const r = await client.send(
        new InvokeCommand({
          FunctionName: config.functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(payload), 'utf8'),
        }),
      );
      if (r.StatusCode !== 202) throw new Error(`broadcast invoke answered ${r.StatusCode}`);
    },
  };
}
