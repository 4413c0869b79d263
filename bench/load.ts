/**
 * `npm run load -- --voters N --rate R --duration D [options]`: the load generator.
 *
 * Creates and opens an election (or reuses one), mints voter tokens with the local
 * identity provider's key, submits one vote per voter on a steady paced schedule over
 * HTTP or by direct Lambda invoke (retrying 503s with the same Idempotency-Key), waits
 * until every accepted vote is decided, and prints a summary. Local stacks only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadSigningKey, SIGNING_KEY_FILE, type SigningKey } from '../shared/auth/keys';
import { mintToken } from '../shared/auth/tokens';
import { loadConfig } from '../shared/config';
import { loadSettings } from '../shared/settings/load';
import { apiUrl, lambdaUrl } from '../shared/settings/schema';
import {
  type LatencyPoint,
  type LatencyStats,
  type LoadSummary,
  renderReport,
  type ThroughputPoint,
} from './load-report';

const HELP = `quorumvote load generator

Usage:
  npm run load -- --voters N --rate R --duration D [options]
  node --import tsx bench/load.ts --voters N --rate R --duration D [options]

Creates an election with --options options and opens it (or reuses --election), mints
one token per synthetic voter, and has each voter vote once, on a steady schedule of R
first attempts per second. Sending stops after D seconds or when all N voters have
voted, whichever comes first (so min(N, R x D) votes are sent). Then it waits until
every accepted vote is finalized (or --finalize-timeout passes) and prints a summary.

LOCAL ONLY: tokens are minted with the local identity provider's signing key
(<key dir>/signing-key.json, the one \`npm start\` uses), so they verify only on a stack
that shares that key. --url and --lambda-url must be loopback addresses; nothing else
is ever contacted.

Required:
  --voters N              distinct voters, each votes once (1 to 1000000)
  --rate R                first attempts per second (0.1 to 10000)
  --duration D            stop sending after D seconds (0.1 to 86400)

Options:
  --election ID           reuse this open election (its options are read) instead of
                          creating one
  --options K             options on the created election (2 to 64; default 3)
  --via http|invoke       submit over HTTP (default) or by invoking the votesSubmit
                          Lambda directly (serverless-offline's invoke API)
  --url URL               the HTTP API (default http://127.0.0.1:3000); also used to
                          set up the election and read results and the audit log
  --lambda-url URL        the Lambda invoke API (default http://127.0.0.1:3002)
  --function NAME         the function to invoke (default quorumvote-local-votesSubmit)
  --key-dir DIR           folder of the signing key (default $JWT_KEY_DIR or .local/keys;
                          JWT_PRIVATE_JWK, when set, wins, as for the stack)
  --max-in-flight K       submissions in flight at most (default 256); when reached,
                          sends wait, and the run falls behind its schedule
  --timeout S             per-request timeout in seconds (default 10)
  --retry-for S           keep retrying a vote's 503 / timeout / network error for up
                          to S seconds after its first attempt (default 30)
  --finalize-timeout S    wait at most S seconds for accepted votes to be decided
                          (default 60)
  --report FILE           write a self-contained HTML report with charts of throughput
                          and latency over time
  --json FILE             write the summary as JSON
  -h, --help              this text

What is measured:
  submit latency          first attempt to the final answer, retries included (202s)
  submit -> finalized     first attempt to the vote's entry in the audit log (its
                          finalizedAt, on the finalizing coordinator's synced clock)
  Errors are votes whose final answer was not 202, by "<status> <code>"; 503s,
  timeouts and network errors are retried with the same Idempotency-Key first.

Progress: one redrawn line on a terminal (stderr), plain lines every few seconds
otherwise. The summary goes to stdout. Ctrl-C once stops sending and waits for what
was accepted; twice skips the wait; three times quits.

Exit status: 0 done; 1 the run failed (stack unreachable, key not trusted, nothing
accepted, or accepted votes still pending after --finalize-timeout); 2 bad arguments.

Example:
  npm run load -- --voters 2000 --rate 100 --duration 30 --report load.html
`;

// ---------------------------------------------------------------- arguments

interface LoadOptions {
  voters: number;
  rate: number;
  duration: number;
  election?: string;
  options: number;
  via: 'http' | 'invoke';
  url: string;
  lambdaUrl: string;
  functionName: string;
  keyDir: string;
  maxInFlight: number;
  timeoutS: number;
  retryForS: number;
  finalizeTimeoutS: number;
  report?: string;
  json?: string;
}

class UsageError extends Error {}
class RunError extends Error {}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function numberArg(
  name: string,
  text: string | undefined,
  { min, max, integer }: { min: number; max: number; integer?: boolean },
): number | undefined {
  if (text === undefined) return undefined;
  const ok = integer ? /^\d+$/.test(text) : /^(\d+(\.\d*)?|\.\d+)$/.test(text);
  const n = Number(text);
  if (!ok || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${text}"`,
    );
  }
  return n;
}

function localUrl(name: string, text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`--${name} is not a URL: "${text}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UsageError(`--${name} must be an http:// or https:// URL, got "${text}"`);
  }
  if (!LOOPBACK.test(u.hostname)) {
    throw new UsageError(
      `--${name} must point at this machine (127.0.0.1, localhost or [::1]): the load generator ` +
        `mints tokens with the local key and is for local stacks only, got "${u.hostname}"`,
    );
  }
  if (u.search || u.hash || u.username)
    throw new UsageError(`--${name} must not carry a query, hash or user`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** Parses and checks the command line; throws {@link UsageError} on anything wrong. */
function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): LoadOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        voters: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        election: { type: 'string' },
        options: { type: 'string' },
        via: { type: 'string' },
        url: { type: 'string' },
        'lambda-url': { type: 'string' },
        function: { type: 'string' },
        'key-dir': { type: 'string' },
        'max-in-flight': { type: 'string' },
        timeout: { type: 'string' },
        'retry-for': { type: 'string' },
        'finalize-timeout': { type: 'string' },
        report: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    const msg = (err as Error).message.split('. ')[0] ?? 'bad arguments';
    throw new UsageError(msg.replace(/\.$/, ''));
  }
  if (values['help']) return 'help';
  const settings = loadSettings(env);
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const voters = numberArg('voters', str('voters'), { min: 1, max: 1_000_000, integer: true });
  const rate = numberArg('rate', str('rate'), { min: 0.1, max: 10_000 });
  const duration = numberArg('duration', str('duration'), { min: 0.1, max: 86_400 });
  const missing = (['voters', 'rate', 'duration'] as const).filter((k) => str(k) === undefined);
  if (missing.length) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
  const election = str('election');
  if (election !== undefined && !/^el[a-z0-9]{4,40}$/.test(election)) {
    throw new UsageError(`--election must be an election id like "el3kq9x0a1", got "${election}"`);
  }
  if (election !== undefined && str('options') !== undefined) {
    throw new UsageError('--options only applies when creating an election; drop it or --election');
  }
  const via = str('via') ?? 'http';
  if (via !== 'http' && via !== 'invoke') throw new UsageError(`--via must be http or invoke, got "${via}"`);
  const functionName = str('function') ?? 'quorumvote-local-votesSubmit';
  if (!/^[A-Za-z0-9_-]{1,140}$/.test(functionName)) {
    throw new UsageError(`--function is not a Lambda function name: "${functionName}"`);
  }
  for (const k of ['report', 'json', 'key-dir']) {
    if (str(k) === '') throw new UsageError(`--${k} needs a path`);
  }
  return {
    voters: voters!,
    rate: rate!,
    duration: duration!,
    ...(election === undefined ? {} : { election }),
    options: numberArg('options', str('options'), { min: 2, max: 64, integer: true }) ?? 3,
    via,
    url: localUrl('url', str('url') ?? apiUrl(settings)),
    lambdaUrl: localUrl('lambda-url', str('lambda-url') ?? lambdaUrl(settings)),
    functionName,
    keyDir: str('key-dir') ?? settings.JWT_KEY_DIR,
    maxInFlight:
      numberArg('max-in-flight', str('max-in-flight'), { min: 1, max: 10_000, integer: true }) ?? 256,
    timeoutS: numberArg('timeout', str('timeout'), { min: 0.1, max: 600 }) ?? 10,
    retryForS: numberArg('retry-for', str('retry-for'), { min: 0, max: 3600 }) ?? 30,
    finalizeTimeoutS: numberArg('finalize-timeout', str('finalize-timeout'), { min: 0, max: 3600 }) ?? 60,
    ...(str('report') === undefined ? {} : { report: str('report')! }),
    ...(str('json') === undefined ? {} : { json: str('json')! }),
  };
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function latencyStats(values: number[]): LatencyStats {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : 0,
  };
}

const errName = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException & { name?: string };
  if (e?.name === 'TimeoutError') return 'timeout';
  return `network ${e?.code ?? e?.name ?? 'error'}`;
};

// ---------------------------------------------------------------- HTTP

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

class Http {
  private readonly agent: HttpAgent;
  private readonly base: URL;

  constructor(
    readonly baseUrl: string,
    maxSockets: number,
  ) {
    this.base = new URL(baseUrl);
    this.agent =
      this.base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets })
        : new HttpAgent({ keepAlive: true, maxSockets });
  }

  call(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<HttpAnswer> {
    const req = this.base.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolveAnswer, reject) => {
      const r = req(
        {
          host: this.base.hostname.replace(/^\[|\]$/g, ''),
          port: this.base.port || (this.base.protocol === 'https:' ? 443 : 80),
          method,
          path: `${this.base.pathname.replace(/\/$/, '')}${path}`,
          headers: {
            ...headers,
            ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          },
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolveAnswer({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      r.setTimeout(timeoutMs, () => {
        const e = new Error(`no answer within ${timeoutMs} ms`);
        e.name = 'TimeoutError';
        r.destroy(e);
      });
      r.on('error', reject);
      if (body !== undefined) r.write(body);
      r.end();
    });
  }

  /**
   * A JSON call for setup and polling: throws {@link RunError} when the stack cannot be
   * reached. A read answered 429 (the per-user read limits) waits Retry-After and retries.
   */
  async json(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.jsonOnce(method, path, token, body);
      const wait = Number(r.headers['retry-after'] ?? 1);
      if (r.status !== 429 || method !== 'GET' || attempt >= 30) return { status: r.status, body: r.body };
      await new Promise((done) => setTimeout(done, Math.min(10, Math.max(1, wait)) * 1000));
    }
  }

  private async jsonOnce(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: IncomingHttpHeaders }> {
    let a: HttpAnswer;
    try {
      a = await this.call(
        method,
        path,
        {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body === undefined ? undefined : JSON.stringify(body),
        15000,
      );
    } catch (err) {
      throw new RunError(`cannot reach ${this.baseUrl} (${errName(err)}): is the stack running (npm start)?`);
    }
    let parsed: Record<string, unknown> = {};
    try {
      parsed = a.text ? (JSON.parse(a.text) as Record<string, unknown>) : {};
    } catch {
      parsed = { raw: a.text.slice(0, 200) };
    }
    return { status: a.status, body: parsed, headers: a.headers };
  }
}

const explain = (r: { status: number; body: Record<string, unknown> }): string => {
  const e = r.body['error'] as { code?: string; message?: string } | undefined;
  return e
    ? `${r.status} ${e.code ?? ''}: ${e.message ?? ''}`
    : `${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;
};

// ---------------------------------------------------------------- submitting

interface Vote {
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

interface Attempt {
  status: number;
  code?: string;
  voteId?: string;
  retryAfterS?: number;
}

type Submitter = (electionId: string, v: Vote, timeoutMs: number) => Promise<Attempt>;

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

function httpSubmitter(http: Http): Submitter {
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

function invokeSubmitter(o: LoadOptions): Submitter {
  // The SDK's notice about its future Node.js requirement would land in the middle of the progress line.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const client = new LambdaClient({
    region: process.env['AWS_REGION'] || 'us-east-1',
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

// ---------------------------------------------------------------- progress

const BAR = 24;
/** Voter tokens minted at once. */
const MINT_BATCH = 256;

function bar(frac: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(frac) ? frac : 0));
  const full = Math.round(f * BAR);
  return `${'█'.repeat(full)}${'░'.repeat(BAR - full)}`;
}

/** One redrawn line on a terminal; plain lines every `everyMs` otherwise. */
class Progress {
  private readonly tty: boolean;
  private lastLine = '';
  private lastPrinted = 0;
  private drawn = false;
  /** Not a TTY: whether `lastLine` has been printed already. */
  private printed = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly everyMs: number,
  ) {
    this.tty = !!out.isTTY && process.env['TERM'] !== 'dumb';
  }

  update(line: string, force = false): void {
    if (this.tty) {
      const cols = this.out.columns || 120;
      const text = line.length > cols - 1 ? line.slice(0, cols - 1) : line;
      this.out.write(`\r${text}\x1b[K`);
      this.drawn = true;
    } else if (force || Date.now() - this.lastPrinted >= this.everyMs) {
      this.out.write(`${line}\n`);
      this.lastPrinted = Date.now();
      this.printed = true;
      this.lastLine = line;
      return;
    }
    this.lastLine = line;
    this.printed = false;
  }

  /** A message above the progress line. */
  log(msg: string): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[K');
    this.out.write(`${msg}\n`);
    if (this.tty && this.drawn) this.out.write(this.lastLine);
  }

  /** Leaves the last state on screen and moves on. */
  finish(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    else if (!this.tty && this.lastLine && !this.printed) this.out.write(`${this.lastLine}\n`);
    this.drawn = false;
    this.lastLine = '';
  }
}

// ---------------------------------------------------------------- the run

interface ElectionInfo {
  id: string;
  options: string[];
  partitions: number;
}

async function checkKey(o: LoadOptions, http: Http): Promise<SigningKey> {
  const keyDir = resolve(o.keyDir);
  const fromEnv = (process.env['JWT_PRIVATE_JWK'] ?? '').trim() !== '';
  // Asking for the JWKS first also makes a fresh stack create its key (it does so on first use).
  const jwks = await http.json('GET', '/.well-known/jwks.json', undefined);
  if (jwks.status !== 200) throw new RunError(`GET /.well-known/jwks.json answered ${explain(jwks)}`);
  // Never let loadSigningKey generate a key of our own: nobody would trust it.
  if (!fromEnv && !existsSync(join(keyDir, SIGNING_KEY_FILE))) {
    throw new RunError(
      `no signing key at ${join(keyDir, SIGNING_KEY_FILE)}: point --key-dir or JWT_KEY_DIR at the ` +
        `key folder of the stack at ${o.url} (npm start uses .local/keys in the repository)`,
    );
  }
  const key = loadSigningKey({ keyDir });
  const kids = ((jwks.body['keys'] as { kid?: string }[] | undefined) ?? []).map((k) => k.kid);
  if (!kids.includes(key.kid)) {
    throw new RunError(
      `the stack at ${o.url} does not trust the key in ${fromEnv ? 'JWT_PRIVATE_JWK' : keyDir} ` +
        `(kid ${key.kid}; it publishes ${kids.join(', ') || 'none'}): point --key-dir or JWT_KEY_DIR ` +
        `at the key folder the stack uses`,
    );
  }
  return key;
}

async function prepareElection(
  o: LoadOptions,
  http: Http,
  admin: string,
  runId: string,
): Promise<ElectionInfo> {
  const info = (b: Record<string, unknown>): ElectionInfo => ({
    id: String(b['id']),
    options: ((b['options'] as { id: string }[] | undefined) ?? []).map((x) => x.id),
    partitions: Number(b['partitions'] ?? 0),
  });
  if (o.election) {
    const r = await http.json('GET', `/elections/${o.election}`, admin);
    if (r.status === 404) throw new RunError(`election ${o.election} does not exist at ${o.url}`);
    if (r.status !== 200) throw new RunError(`GET /elections/${o.election} answered ${explain(r)}`);
    const status = String(r.body['status']);
    if (status !== 'open') {
      throw new RunError(
        `election ${o.election} is ${status}, not open` +
          (status === 'draft'
            ? `: open it first (POST /elections/${o.election}/open) or omit --election`
            : ''),
      );
    }
    if (r.body['restricted'] === true) {
      throw new RunError(
        `election ${o.election} only takes votes from its voter list, which the synthetic voters are not on`,
      );
    }
    const e = info(r.body);
    if (e.options.length === 0) throw new RunError(`election ${o.election} has no options`);
    return e;
  }
  const options = Array.from({ length: o.options }, (_, i) => ({
    id: `opt${i + 1}`,
    label: `Option ${i + 1}`,
  }));
  const created = await http.json('POST', '/elections', admin, {
    title: `Load test ${runId}: ${o.voters} voters at ${o.rate}/s`,
    options,
  });
  if (created.status !== 201) throw new RunError(`POST /elections answered ${explain(created)}`);
  const id = String(created.body['id']);
  const opened = await http.json('POST', `/elections/${id}/open`, admin);
  if (opened.status !== 200) throw new RunError(`POST /elections/${id}/open answered ${explain(opened)}`);
  return info(opened.body);
}

interface ResultsView {
  decided: number;
  finalized: number;
  rejected: number;
}

async function readResults(http: Http, token: string, electionId: string): Promise<ResultsView | undefined> {
  try {
    const r = await http.json('GET', `/elections/${electionId}/results`, token);
    if (r.status !== 200) return undefined;
    const finalized = Number(r.body['finalized'] ?? 0);
    const rejected = Number(r.body['rejected'] ?? 0);
    return { decided: finalized + rejected, finalized, rejected };
  } catch {
    return undefined;
  }
}

/** Reads the whole audit log and records the decision of each of our votes. Returns how many matched. */
async function readAudit(
  http: Http,
  token: string,
  electionId: string,
  byId: Map<string, Vote>,
): Promise<number> {
  let cursor = '';
  let matched = 0;
  for (let page = 0; page < 100_000; page++) {
    const q = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await http.json('GET', `/elections/${electionId}/audit?${q}`, token);
    if (r.status !== 200) throw new RunError(`GET /elections/${electionId}/audit answered ${explain(r)}`);
    for (const e of (r.body['entries'] as Record<string, string>[] | undefined) ?? []) {
      const v = e['voteId'] ? byId.get(e['voteId']) : undefined;
      if (!v) continue;
      // voteId and finalizedAt: the admin's view of the log (the public one names neither).
      v.decidedAt = Date.parse(e['finalizedAt'] ?? '');
      v.outcome = e['outcome'] === 'rejected' ? 'rejected' : 'counted';
      matched++;
    }
    const next = r.body['nextCursor'];
    if (typeof next !== 'string' || next === '') break;
    cursor = next;
  }
  return matched;
}

const fmtS = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const pad = (s: string | number, n: number): string => String(s).padStart(n);

/** The summary table printed at the end. */
function formatSummary(s: LoadSummary, o: Pick<LoadOptions, 'rate' | 'duration' | 'url'>): string {
  const errTotal = Object.values(s.errors).reduce((a, n) => a + n, 0);
  const retryTotal = Object.values(s.retries).reduce((a, n) => a + n, 0);
  const rows: [string, number][] = [
    ['planned', s.planned],
    ['sent', s.sent],
    ['accepted (202)', s.accepted],
    ['finalized (counted)', s.finalized],
    ['rejected (by coordinators)', s.rejected],
    ['pending after the wait', s.pending],
    ['errors', errTotal],
    ...Object.entries(s.errors)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]): [string, number] => [`  ${k}`, n]),
    ['retries', retryTotal],
    ...Object.entries(s.retries)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]): [string, number] => [`  ${k}`, n]),
  ];
  const w = Math.max(28, ...rows.map((r) => r[0].length + 2));
  const lat = (name: string, l: LatencyStats): string =>
    `  ${name.padEnd(22)}${pad(l.n, 8)}${[l.p50, l.p95, l.p99, l.max].map((v) => pad(Math.round(v), 8)).join('')}`;
  const sendRate = s.sendSeconds > 0 ? s.sent / s.sendSeconds : 0;
  const lines = [
    '',
    `Load run: election ${s.electionId}, ${s.voters} voters at ${o.rate}/s for up to ${o.duration} s, via ${s.via}${s.interrupted ? ' (interrupted)' : ''}`,
    '',
    `  ${'votes'.padEnd(w)}${pad('count', 8)}`,
    ...rows.map(([k, n]) => `  ${k.padEnd(w)}${pad(n, 8)}`),
    '',
    `  ${'latency (ms)'.padEnd(22)}${['n', 'p50', 'p95', 'p99', 'max'].map((h) => pad(h, 8)).join('')}`,
    lat('submit', s.submitLatency),
    lat('submit -> finalized', s.finalizeLatency),
    '',
    `  sent ${s.sent} in ${s.sendSeconds.toFixed(1)} s (${sendRate.toFixed(1)}/s); ` +
      (s.pending === 0
        ? `every accepted vote decided ${s.totalSeconds.toFixed(1)} s after the first send`
        : `${s.pending} accepted vote(s) still pending ${s.totalSeconds.toFixed(1)} s after the first send`),
  ];
  return `${lines.join('\n')}\n`;
}

async function run(o: LoadOptions): Promise<number> {
  const err = process.stderr;
  const progress = new Progress(err, Math.min(10_000, Math.max(1000, (o.duration * 1000) / 20)));
  const http = new Http(o.url, o.maxInFlight + 8);
  const runId = randomBytes(4).toString('hex');
  const cfg = loadConfig();

  // Ctrl-C: 1 stops sending, 2 skips the wait, 3 quits.
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts === 1)
      progress.log('interrupted: no more sends; waiting for accepted votes (Ctrl-C again to skip)');
    if (interrupts === 2) progress.log('interrupted again: skipping the wait (Ctrl-C again to quit)');
    if (interrupts >= 3) process.exit(130);
  });

  const key = await checkKey(o, http);
  const signer = { key, issuer: cfg.jwt.issuer, audience: cfg.jwt.audience };
  const ttlS = Math.ceil(o.duration + o.retryForS + o.finalizeTimeoutS + 3600);
  const admin = await mintToken(
    { sub: `load-admin-${runId}`, role: 'admin', username: 'load-generator' },
    { ...signer, ttlS },
  );
  const election = await prepareElection(o, http, admin, runId);
  progress.log(
    `${o.election ? 'reusing' : 'created and opened'} election ${election.id} ` +
      `(${election.options.length} options: ${election.options.join(', ')}) at ${o.url}`,
  );
  const baseline = (await readResults(http, admin, election.id)) ?? { decided: 0, finalized: 0, rejected: 0 };

  // Each voter votes once; the schedule's slots within the duration cap how many vote.
  const planned = Math.min(o.voters, Math.ceil(o.rate * o.duration));
  const votes: Vote[] = new Array(planned);
  const mintStarted = Date.now();
  // Signing runs off the main thread: batches keep both cores busy (about 2x faster).
  for (let start = 0; start < planned; start += MINT_BATCH) {
    const end = Math.min(planned, start + MINT_BATCH);
    await Promise.all(
      Array.from({ length: end - start }, async (_, k) => {
        const i = start + k;
        const sub = `load-${runId}-${i}`;
        votes[i] = {
          i,
          sub,
          token: await mintToken({ sub, role: 'voter' }, { ...signer, ttlS }),
          optionId: election.options[i % election.options.length]!,
          key: `load-${runId}-${i}`,
          sentAt: 0,
          answeredAt: 0,
          attempts: 0,
          result: '',
        };
      }),
    );
    if (planned > MINT_BATCH)
      progress.update(`minting voter tokens [${bar(end / planned)}] ${end}/${planned}`);
    if (interrupts > 0) throw new RunError('interrupted while minting tokens');
  }
  progress.finish();
  progress.log(
    `minted ${planned} voter tokens with the local key (${fmtS(Date.now() - mintStarted)}); ` +
      `sending ${planned} votes at ${o.rate}/s via ${o.via === 'http' ? o.url : `${o.lambdaUrl} (${o.functionName})`}`,
  );
  if (o.via === 'invoke') {
    try {
      await new Http(o.lambdaUrl, 1).call('GET', '/', {}, undefined, 5000);
    } catch (e) {
      throw new RunError(`cannot reach the Lambda invoke API at ${o.lambdaUrl} (${errName(e)})`);
    }
  }
  const submit = o.via === 'http' ? httpSubmitter(http) : invokeSubmitter(o);

  // ---- live state
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  let inFlight = 0;
  let decided = 0;
  let finalizedNow = 0;
  const errors: Record<string, number> = {};
  const retries: Record<string, number> = {};
  const byId = new Map<string, Vote>();
  const inFlightSamples: [number, number][] = [];
  const samples: [number, number, number][] = [];
  let phase: 'sending' | 'draining' | 'finalizing' | 'checking' = 'sending';
  let stopRetrying = false;
  let slotWaiter: (() => void) | undefined;

  const t0 = Date.now();
  const elapsed = (): number => Date.now() - t0;
  /** Sends per second while sending, finalizations per second afterwards (over the last 2 s). */
  const currentRate = (): number => {
    const now = elapsed();
    const old = samples.find(([t]) => t >= now - 2000);
    if (!old || now - old[0] < 200) return 0;
    const d = phase === 'sending' ? sent - old[1] : finalizedNow - old[2];
    return (d * 1000) / (now - old[0]);
  };
  const line = (): string => {
    const f =
      phase === 'sending'
        ? sent / planned
        : phase === 'draining'
          ? (accepted + failed) / Math.max(1, sent)
          : accepted
            ? decided / accepted
            : 1;
    const rate = `${currentRate().toFixed(1)} ${phase === 'sending' ? 'sent' : 'fin'}/s`;
    // While draining the bar is answers over sends; afterwards decided over accepted.
    return (
      `${phase.padEnd(10)} [${bar(f)}] ${pad(Math.floor(f * 100), 3)}% ${pad(fmtS(elapsed()), 7)}  ` +
      `sent ${sent}/${planned}  acc ${accepted}  fin ${finalizedNow}  ${rate}  err ${failed}  in-flight ${inFlight}`
    );
  };
  const ticker = setInterval(
    () => {
      const now = elapsed();
      samples.push([now, sent, finalizedNow]);
      while (samples.length && samples[0]![0] < now - 5000) samples.shift();
      inFlightSamples.push([now / 1000, inFlight]);
      progress.update(line());
    },
    err.isTTY ? 200 : 250,
  );

  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      const r = await readResults(http, admin, election.id);
      if (r) {
        decided = Math.max(decided, r.decided - baseline.decided);
        finalizedNow = Math.max(finalizedNow, r.finalized - baseline.finalized);
      }
    } finally {
      polling = false;
    }
  };
  const poller = setInterval(() => void poll(), 1000);

  const attemptLoop = async (v: Vote): Promise<void> => {
    const timeoutMs = o.timeoutS * 1000;
    for (;;) {
      v.attempts++;
      let waitMs = Math.min(1000, 100 * 2 ** (v.attempts - 1));
      let retry: string;
      try {
        const a = await submit(election.id, v, timeoutMs);
        if (a.status === 202 && a.voteId) {
          v.result = '202';
          v.voteId = a.voteId;
          break;
        }
        const code = a.code ?? (a.status === 202 ? 'no_vote_id' : 'no_code');
        v.result = a.status ? `${a.status} ${code}` : code;
        if (a.status !== 503) break;
        retry = `503 ${a.code ?? ''}`.trim();
        if (a.retryAfterS) waitMs = Math.min(5000, a.retryAfterS * 1000);
      } catch (e) {
        retry = errName(e);
        v.result = retry;
      }
      if (stopRetrying || Date.now() + waitMs > v.sentAt + o.retryForS * 1000) break;
      retries[retry] = (retries[retry] ?? 0) + 1;
      await sleep(waitMs);
    }
    v.answeredAt = Date.now();
    v.token = ''; // done with it: a long run holds many
    if (v.result === '202') {
      accepted++;
      byId.set(v.voteId!, v);
    } else {
      failed++;
      errors[v.result] = (errors[v.result] ?? 0) + 1;
    }
  };

  // ---- the paced schedule: vote i is due at t0 + i / rate
  const running = new Set<Promise<void>>();
  const deadline = t0 + o.duration * 1000;
  let next = 0;
  let fellBehind = false;
  while (next < planned && interrupts === 0) {
    if (inFlight >= o.maxInFlight) {
      await new Promise<void>((r) => {
        slotWaiter = r;
      });
      continue;
    }
    const due = t0 + (next * 1000) / o.rate;
    const now = Date.now();
    if (due > now) {
      await sleep(Math.min(due - now, 50));
      continue;
    }
    if (now > deadline + 1000) {
      fellBehind = true;
      break;
    }
    const v = votes[next++]!;
    v.sentAt = now;
    sent++;
    inFlight++;
    const p: Promise<void> = attemptLoop(v).finally(() => {
      inFlight--;
      running.delete(p);
      const w = slotWaiter;
      slotWaiter = undefined;
      w?.();
    });
    running.add(p);
  }
  if (fellBehind) {
    progress.log(
      `the duration ended with ${planned - sent} votes unsent: the target could not keep up ` +
        `with ${o.rate}/s at --max-in-flight ${o.maxInFlight}`,
    );
  }
  if (interrupts > 0) stopRetrying = true;
  phase = 'draining';
  while (running.size) await Promise.race(running);
  let sendEnd = t0;
  let lastSentAt = t0;
  for (let i = 0; i < sent; i++) {
    sendEnd = Math.max(sendEnd, votes[i]!.answeredAt);
    lastSentAt = Math.max(lastSentAt, votes[i]!.sentAt);
  }

  // ---- wait (bounded) until every accepted vote is decided
  phase = 'finalizing';
  clearInterval(poller);
  const waitUntil = Date.now() + o.finalizeTimeoutS * 1000;
  while (accepted > 0 && interrupts < 2 && Date.now() < waitUntil) {
    await poll();
    if (decided >= accepted) break;
    await sleep(300);
  }
  phase = 'checking';
  let matched = 0;
  for (;;) {
    try {
      matched = await readAudit(http, admin, election.id, byId);
    } catch (e) {
      progress.log(`could not read the audit log: ${(e as Error).message}`);
    }
    if (matched >= accepted || interrupts >= 2 || Date.now() >= waitUntil) break;
    await sleep(1000);
  }
  clearInterval(ticker);
  finalizedNow = votes.filter((v) => v.outcome === 'counted').length;
  decided = matched;
  progress.update(line(), true);
  progress.finish();
  const endAt = Date.now();

  // ---- figures
  const acceptedVotes = votes.slice(0, sent).filter((v) => v.result === '202');
  const decidedVotes = acceptedVotes.filter((v) => v.decidedAt !== undefined);
  const lastDecided = decidedVotes.reduce((m, v) => Math.max(m, v.decidedAt!), 0);
  const pending = acceptedVotes.length - decidedVotes.length;
  const summary: LoadSummary = {
    electionId: election.id,
    via: o.via,
    voters: o.voters,
    planned,
    sent,
    accepted: acceptedVotes.length,
    finalized: decidedVotes.filter((v) => v.outcome === 'counted').length,
    rejected: decidedVotes.filter((v) => v.outcome === 'rejected').length,
    pending,
    errors,
    retries,
    submitLatency: latencyStats(acceptedVotes.map((v) => v.answeredAt - v.sentAt)),
    finalizeLatency: latencyStats(decidedVotes.map((v) => Math.max(0, v.decidedAt! - v.sentAt))),
    // The sending window: first to last send, plus the one interval the last send opens.
    sendSeconds: sent > 0 ? (lastSentAt - t0) / 1000 + 1 / o.rate : 0,
    totalSeconds: ((pending === 0 && lastDecided ? Math.max(lastDecided, sendEnd) : endAt) - t0) / 1000,
    interrupted: interrupts > 0,
  };
  process.stdout.write(formatSummary(summary, o));

  if (o.report) {
    const path = resolve(o.report);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, buildReport(o, summary, votes.slice(0, sent), inFlightSamples, t0));
    process.stdout.write(`  report: ${path}\n`);
  }
  if (o.json) {
    const path = resolve(o.json);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify({ options: { ...o }, summary }, null, 2)}\n`);
    process.stdout.write(`  json: ${path}\n`);
  }
  if (sent > 0 && summary.accepted === 0) {
    err.write('load: no vote was accepted (see the errors above)\n');
    return 1;
  }
  if (pending > 0) {
    err.write(
      `load: ${pending} accepted vote(s) were not decided within --finalize-timeout ${o.finalizeTimeoutS} s\n`,
    );
    return 1;
  }
  return 0;
}

/** Bucket widths of the report's charts, in seconds. */
const BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800];

function buildReport(
  o: LoadOptions,
  summary: LoadSummary,
  votes: Vote[],
  inFlight: [number, number][],
  t0: number,
): string {
  let end = t0 + 1;
  for (const v of votes) end = Math.max(end, v.answeredAt, v.decidedAt ?? 0);
  const spanS = (end - t0) / 1000;
  // About 15 to 30 buckets: fine enough to show a shape, coarse enough not to be noise.
  const bucketS = BUCKETS.find((b) => b >= spanS / 30) ?? Math.ceil(spanS / 30);
  const n = Math.max(1, Math.ceil(spanS / bucketS));
  const at = (ms: number): number => Math.min(n - 1, Math.max(0, Math.floor((ms - t0) / 1000 / bucketS)));
  // Points sit mid-bucket. The last bucket is often partial; dividing by its full width
  // understates its rate a little rather than turning a few votes into a spike.
  const tp: ThroughputPoint[] = Array.from({ length: n }, (_, i) => ({
    t: (i + 0.5) * bucketS,
    submitted: 0,
    accepted: 0,
    finalized: 0,
  }));
  const subLat: number[][] = Array.from({ length: n }, () => []);
  const finLat: number[][] = Array.from({ length: n }, () => []);
  for (const v of votes) {
    tp[at(v.sentAt)]!.submitted++;
    if (v.result !== '202') continue;
    tp[at(v.answeredAt)]!.accepted++;
    subLat[at(v.sentAt)]!.push(v.answeredAt - v.sentAt);
    if (v.decidedAt !== undefined) {
      if (v.outcome === 'counted') tp[at(v.decidedAt)]!.finalized++;
      finLat[at(v.sentAt)]!.push(Math.max(0, v.decidedAt - v.sentAt));
    }
  }
  // Running totals at each bucket's end, from 0 at the first send.
  const cumulative: ThroughputPoint[] = [{ t: 0, submitted: 0, accepted: 0, finalized: 0 }];
  tp.forEach((p, i) => {
    const prev = cumulative[cumulative.length - 1]!;
    cumulative.push({
      t: Math.min(spanS, (i + 1) * bucketS),
      submitted: prev.submitted + p.submitted,
      accepted: prev.accepted + p.accepted,
      finalized: prev.finalized + p.finalized,
    });
  });
  for (const p of tp) {
    p.submitted = Math.round((p.submitted / bucketS) * 10) / 10;
    p.accepted = Math.round((p.accepted / bucketS) * 10) / 10;
    p.finalized = Math.round((p.finalized / bucketS) * 10) / 10;
  }
  const q = (xs: number[], p: number): number | null => {
    if (xs.length === 0) return null;
    return percentile(
      [...xs].sort((a, b) => a - b),
      p,
    );
  };
  const lat: LatencyPoint[] = subLat.map((xs, i) => ({
    t: tp[i]!.t,
    submitP50: q(xs, 50),
    submitP99: q(xs, 99),
    finalizeP50: q(finLat[i]!, 50),
    finalizeP99: q(finLat[i]!, 99),
  }));
  // Keep the in-flight series to at most ~1000 points.
  const stride = Math.max(1, Math.ceil(inFlight.length / 1000));
  const flight = inFlight.filter((_, i) => i % stride === 0);
  return renderReport({
    title: `quorumvote load report — ${summary.electionId}`,
    generatedAt: new Date().toISOString(),
    params: [
      ['voters', String(o.voters)],
      ['rate', `${o.rate}/s`],
      ['duration', `${o.duration} s`],
      ['via', o.via === 'http' ? `http ${o.url}` : `invoke ${o.lambdaUrl} ${o.functionName}`],
      ['election', `${summary.electionId}${o.election ? ' (reused)' : ' (created)'}`],
      ['max in flight', String(o.maxInFlight)],
      ['request timeout', `${o.timeoutS} s`],
      ['retry for', `${o.retryForS} s`],
      ['finalize timeout', `${o.finalizeTimeoutS} s`],
      ['node', `${process.version} ${process.platform} ${process.arch}`],
    ],
    summary,
    bucketSeconds: bucketS,
    throughput: tp,
    cumulative,
    latency: lat,
    inFlight: flight,
  });
}

async function main(): Promise<void> {
  let o: LoadOptions | 'help';
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`load: ${e.message}\nRun with --help for usage.\n`);
      process.exit(2);
    }
    throw e;
  }
  if (o === 'help') {
    process.stdout.write(HELP);
    return;
  }
  try {
    process.exitCode = await run(o);
  } catch (e) {
    if (e instanceof RunError) {
      process.stderr.write(`\nload: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
  // Keep-alive sockets and the SDK's agents would hold the process open.
  process.exit(process.exitCode);
}

main().catch((e: unknown) => {
  process.stderr.write(`load: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
