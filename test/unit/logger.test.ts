import { createLogger, type LogFormat } from '../../shared/logger';

/**
 * The logger (shared/logger.ts, pino): the JSON line shape the tests and tools parse
 * (`level` name, `ts`, `msg`, fields at the top level), errors on stderr only, the
 * readable one-line form `npm start` uses, and credentials redacted from both.
 */
function capture(format: LogFormat) {
  const out: string[] = [];
  const err: string[] = [];
  const log = createLogger({ node: 'c1' }, 'debug', {
    format,
    stdout: { write: (s: string) => void out.push(s) },
    stderr: { write: (s: string) => void err.push(s) },
  });
  return { log, out, err };
}

const SECRETS = {
  token: 'eyJhbGciOiJFZERTQSJ9.secret-token-value',
  password: 'correct-horse-battery',
  bearer: 'Bearer eyJ.secret-bearer',
  key: 'idem-0123456789abcdef',
  nonce: 'ff00ff00ff00ff00ff00ff00ff00ff00',
  cluster: 'cluster-secret-value',
};

describe('logger', () => {
  test('JSON lines: level name, ISO time, message and fields at the top level', () => {
    const { log, out, err } = capture('json');
    log.child({ election: 'el1' }).info('role changed', { role: 'leader', term: 3 });
    expect(out).toHaveLength(1);
    expect(err).toEqual([]);
    const line = JSON.parse(out[0]!);
    expect(line).toEqual({
      level: 'info',
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      msg: 'role changed',
      node: 'c1',
      election: 'el1',
      role: 'leader',
      term: 3,
    });
  });

  test('errors go to stderr only; below the level nothing is written', () => {
    const { log, out, err } = capture('json');
    log.error('loop error', { err: 'boom' });
    expect(out).toEqual([]);
    expect(JSON.parse(err[0]!)).toMatchObject({ level: 'error', msg: 'loop error', err: 'boom' });
    const quiet: string[] = [];
    createLogger({}, 'warn', { format: 'json', stdout: { write: (s: string) => void quiet.push(s) } }).info(
      'not shown',
    );
    expect(quiet).toEqual([]);
  });

  test.each<LogFormat>(['json', 'pretty'])(
    '%s: tokens, passwords, secrets, Authorization, Idempotency-Key and nonces are redacted',
    (format) => {
      const { log, out } = capture(format);
      log.warn('login attempt', {
        user: 'alice',
        password: SECRETS.password,
        token: SECRETS.token,
        headers: {
          authorization: SECRETS.bearer,
          'idempotency-key': SECRETS.key,
          accept: 'application/json',
        },
        request: { idempotencyKey: SECRETS.key, receiptNonce: SECRETS.nonce },
        config: { clusterSecret: SECRETS.cluster },
      });
      const text = out.join('');
      for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
      expect(text).toContain('[redacted]');
      // What is not a credential stays readable.
      expect(text).toContain('alice');
      expect(text).toContain('application/json');
    },
  );

  test("redaction matches names in any case, reaches bound fields, and leaves the caller's objects alone", () => {
    const { log, out } = capture('json');
    const fields = {
      request: { headers: { Authorization: SECRETS.bearer, 'Idempotency-Key': SECRETS.key } },
    };
    log.child({ Token: SECRETS.token }).info('request', fields);
    const line = JSON.parse(out[0]!);
    expect(line).toMatchObject({
      Token: '[redacted]',
      request: { headers: { Authorization: '[redacted]', 'Idempotency-Key': '[redacted]' } },
    });
    expect(fields.request.headers.Authorization).toBe(SECRETS.bearer);
  });

  test('pretty: one readable line per event, not JSON', () => {
    const { log, out } = capture('pretty');
    log.info('coordinator started', { term: 0 });
    const text = out.join('');
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: coordinator started /);
    expect(text).toContain('"node":"c1"');
  });
});
