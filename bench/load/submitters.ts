/**
 * The two ways a vote is submitted: over HTTP, or by invoking the votesSubmit Lambda
 * directly (serverless-offline's invoke API) with the event API Gateway would send.
 * Both turn the answer into one {@link Attempt}.
 */
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadSettings } from '../../shared/settings/load';
import type { Http } from './http-client';
import type { LoadOptions } from './options';

export interface Vote {
  i: number;
  sub: string;
  token: string;
  optionId: string;
  key: string;
  /** Date.now() of the first attempt. */
  sentAt: number;
  /** Date.now() of the final answer. */
  answeredAt: number;
  attempts: number;
  /** "202", or the final error ("409 already_voted", "timeout", "network ECONNRESET"...). */
  result: string;
  voteId?: string;
  /** From the audit log. */
  decidedAt?: number;
  outcome?: 'counted' | 'rejected';
}

export interface Attempt {
  status: number;
  code?: string;
  voteId?: string;
  retryAfterS?: number;
}

export type Submitter = (electionId: string, v: Vote, timeoutMs: number) => Promise<Attempt>;

function parseAnswer(status: number, text: string, retryAfter: string | undefined): Attempt {
  let body: { voteId?: unknown; error?: { code?: unknown } } | undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const ra = Number(retryAfter);
  return {
    status,
    ...(typeof body?.voteId === 'string' ? { voteId: body.voteId } : {}),
    ...(typeof body?.error?.code === 'string' ? { code: body.error.code } : body ? {} : { code: 'not_json' }),
    ...(Number.isFinite(ra) && ra > 0 ? { retryAfterS: ra } : {}),
  };
}

export function httpSubmitter(http: Http): Submitter {
  return async (electionId, v, timeoutMs) => {
    const a = await http.call(
      'POST',
      `/elections/${electionId}/votes`,
      {
        authorization: `Bearer ${v.token}`,
        'content-type': 'application/json',
        'idempotency-key': v.key,
      },
      JSON.stringify({ optionId: v.optionId }),
      timeoutMs,
    );
    const ra = a.headers['retry-after'];
    return parseAnswer(a.status, a.text, Array.isArray(ra) ? ra[0] : ra);
  };
}

/** Builds the HTTP API v2 event API Gateway would hand the votesSubmit function. */
function submitEvent(
  electionId: string,
  v: Pick<Vote, 'token' | 'key' | 'optionId'>,
): APIGatewayProxyEventV2 {
  const path = `/elections/${electionId}/votes`;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: 'POST /elections/{id}/votes',
    rawPath: path,
    rawQueryString: '',
    headers: {
      authorization: `Bearer ${v.token}`,
      'content-type': 'application/json',
      'idempotency-key': v.key,
      'user-agent': 'quorumvote-load',
    },
    pathParameters: { id: electionId },
    requestContext: {
      accountId: 'offlineContext_accountId',
      apiId: 'offlineContext_apiId',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: {
        method: 'POST',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'quorumvote-load',
      },
      requestId: randomUUID(),
      routeKey: 'POST /elections/{id}/votes',
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: JSON.stringify({ optionId: v.optionId }),
    isBase64Encoded: false,
  };
}

export function invokeSubmitter(o: LoadOptions): Submitter {
  // The SDK's notice about its future Node.js requirement would land in the middle of the progress line.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const client = new LambdaClient({
    region: loadSettings().AWS_REGION,
    endpoint: o.lambdaUrl,
    // serverless-offline does not check them; dummy values keep the SDK from looking for real ones.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: o.maxInFlight }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: o.maxInFlight }),
      connectionTimeout: 2000,
      requestTimeout: o.timeoutS * 1000,
    },
  });
  return async (electionId, v, timeoutMs) => {
    let r: InvokeCommandOutput;
    try {
      r = await client.send(
        new InvokeCommand({
          FunctionName: o.functionName,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(JSON.stringify(submitEvent(electionId, v)), 'utf8'),
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    } catch (err) {
      const e = err as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
      if (e.name === 'AbortError' || e.name === 'TimeoutError') {
        const t = new Error('timeout');
        t.name = 'TimeoutError';
        throw t;
      }
      // An answer from the invoke API (unknown function, throttled...) is final; no answer is retried.
      if (e.$metadata?.httpStatusCode) return { status: 0, code: `invoke ${e.name}` };
      throw err;
    }
    if (r.FunctionError) return { status: 0, code: `invoke FunctionError ${r.FunctionError}` };
    let res: { statusCode?: number; headers?: Record<string, string>; body?: string };
    try {
      res = JSON.parse(Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8'));
    } catch {
      return { status: 0, code: 'invoke payload not JSON' };
    }
    const headers = Object.fromEntries(
      Object.entries(res.headers ?? {}).map(([k, h]) => [k.toLowerCase(), h]),
    );
    return parseAnswer(res.statusCode ?? 0, res.body ?? '', headers['retry-after']);
  };
}
