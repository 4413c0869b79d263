import pino, { type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { loadSettings } from './settings/load';

/**
 * Structured logging (CONVENTIONS 15) with pino: one line per event, with whatever
 * context the caller binds (node id, term, election, vote id). JSON lines
 * (`{"level":"info","ts":…,"msg":…,…fields}`) everywhere by default, the form the tests
 * and log tooling parse; `LOG_FORMAT=pretty` (what `npm start` sets) prints one readable
 * line per event instead. Errors go to stderr, the rest to stdout. Quiet by default under
 * Jest; `LOG_LEVEL` overrides.
 *
 * Credentials never reach a log line: fields named like a credential (tokens, passwords,
 * secrets, Authorization and Cookie headers, Idempotency-Keys, a receipt's secret nonce)
 * are replaced by `[redacted]`, at the top level and two objects down ({@link redact}).
 * Redaction covers fields only: a message text is written as given.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

/** `json`: one JSON object per line. `pretty`: one human-readable line (local `npm start`). */
export type LogFormat = 'json' | 'pretty';

// LOG_LEVEL and LOG_FORMAT are validated settings (shared/settings/): a misspelt level
// stops the process at start instead of silently logging at the default.
function defaultLevel(): LogLevel {
  return loadSettings().LOG_LEVEL ?? (process.env['JEST_WORKER_ID'] ? 'silent' : 'info');
}

function defaultFormat(): LogFormat {
  return loadSettings().LOG_FORMAT ?? 'json';
}

/**
 * Field names whose values are credentials or would break ballot secrecy, matched
 * case-insensitively (so `Authorization` and `authorization` alike). An Idempotency-Key
 * replays its vote for whoever holds the voter's token too; a receipt nonce turns a
 * receipt back into the option voted for.
 */
export const REDACTED_FIELDS = [
  'token',
  'accessToken',
  'password',
  'newPassword',
  'secret',
  'clusterSecret',
  'invokeSecret',
  'privateKey',
  'authorization',
  'cookie',
  'idempotencyKey',
  'idempotency-key',
  'x-api-key',
  'receiptNonce',
  'credential',
] as const;
const sensitive = new Set<string>(REDACTED_FIELDS.map((f) => f.toLowerCase()));

/**
 * `fields` with every credential-named field replaced by `[redacted]`, at the top level
 * and two objects down (`headers.authorization`, `request.headers.cookie`); the caller's
 * objects are never changed (copied where a field is replaced). Written here rather than
 * with pino's path-based `redact`, whose wildcard paths cost 3x a whole log line.
 */
export function redact(fields: LogFields, depth = 0): LogFields {
  let out = fields;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    let replaced: unknown = value;
    if (sensitive.has(key.toLowerCase())) replaced = '[redacted]';
    else if (depth < 2 && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      replaced = redact(value as LogFields, depth + 1);
    }
    if (replaced !== value) {
      if (out === fields) out = { ...fields };
      out[key] = replaced;
    }
  }
  return out;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Where the lines go (tests capture them); the process's stdout and stderr by default. */
export interface LogOutput {
  format?: LogFormat;
  stdout?: DestinationStream;
  stderr?: DestinationStream;
}

/** Formats a pino JSON line as one readable line (time, level, message, then the fields). */
const prettify = prettyFactory({
  singleLine: true,
  colorize: false, // npm start prefixes and colours each process's lines itself
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname',
});

/** A stream for one file descriptor, in the chosen format; synchronous, so no line is lost at exit. */
function destination(format: LogFormat, fd: 1 | 2, given: DestinationStream | undefined): DestinationStream {
  const raw = given ?? pino.destination({ dest: fd, sync: true });
  return format === 'json' ? raw : { write: (line: string) => raw.write(prettify(line)) };
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
    child: (fields) => wrap(p.child(redact(fields))), // bindings skip `formatters.log`
  };
}

/** Creates a logger writing to stdout (stderr for errors), with `base` on every line. */
export function createLogger(
  base: LogFields = {},
  level: LogLevel = defaultLevel(),
  output: LogOutput = {},
): Logger {
  const format = output.format ?? defaultFormat();
  const streams = pino.multistream(
    [
      { level: 'debug', stream: destination(format, 1, output.stdout) },
      { level: 'error', stream: destination(format, 2, output.stderr) },
    ],
    { dedupe: true }, // an error goes to stderr only
  );
  const json = format === 'json';
  const p = pino(
    {
      level,
      base: null,
      // JSON keeps the shape the tests parse: a level name and an ISO time under `ts`.
      ...(json ? { timestamp: () => `,"ts":"${new Date().toISOString()}"` } : {}),
      formatters: {
        ...(json ? { level: (label: string) => ({ level: label }) } : {}),
        log: (fields: LogFields) => redact(fields),
      },
    },
    streams,
  );
  return wrap(Object.keys(base).length ? p.child(redact(base)) : p);
}

/** Turns anything thrown into loggable fields without leaking it to clients. */
export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) return { err: err.message, errName: err.name };
  return { err: String(err) };
}
