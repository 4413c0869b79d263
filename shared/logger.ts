/**
 * Structured JSON-line logging (CONVENTIONS 15). One line per event, with whatever
 * context the caller binds (node id, term, election, vote id). Quiet by default under
 * Jest; `LOG_LEVEL` overrides.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function defaultLevel(): LogLevel {
  const env = process.env['LOG_LEVEL'] as LogLevel | undefined;
  if (env && env in order) return env;
  return process.env['JEST_WORKER_ID'] ? 'silent' : 'info';
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Creates a logger that writes JSON lines to stdout (stderr for errors). */
export function createLogger(base: LogFields = {}, level: LogLevel = defaultLevel()): Logger {
  const write = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (order[lvl] < order[level]) return;
    const line = JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...base, ...fields });
    (lvl === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, level),
  };
}

/** Turns anything thrown into loggable fields without leaking it to clients. */
export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) return { err: err.message, errName: err.name };
  return { err: String(err) };
}
