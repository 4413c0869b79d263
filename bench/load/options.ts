/**
 * The load generator's command line: parsed like every CLI (local/cli.ts: an unknown
 * flag or a missing value is a {@link UsageError}), then checked (ranges, loopback
 * URLs, ids). Defaults follow the settings of the stack it talks to (HTTP_PORT,
 * LAMBDA_PORT, JWT_KEY_DIR).
 */
import { type ParsedFlags, UsageError, parseFlags, stringFlag } from '../../local/cli';
import { loadSettings } from '../../shared/settings/load';
import { apiUrl, lambdaUrl } from '../../shared/settings/schema';

export interface LoadOptions {
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
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): LoadOptions | 'help' {
  let flags: ParsedFlags;
  try {
    flags = parseFlags(argv, {
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
    });
  } catch (err) {
    // --help: the caller prints HELP (on stdout, exit 0).
    if (err instanceof UsageError && err.message === '') return 'help';
    throw err;
  }
  const settings = loadSettings(env);
  const str = (k: string): string | undefined => stringFlag(flags, k);
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
