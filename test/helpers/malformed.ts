import { connect } from 'node:net';

/**
 * A battery of malformed requests sent as raw bytes (an HTTP client library would
 * refuse to send most of them): bad percent-encoding, absurd and very long paths, huge
 * and invalid headers, bad methods and versions, invalid JSON, non-UTF-8 bytes, broken
 * chunked bodies, a TLS hello and plain garbage. Used by the tests that check no
 * request to any listening port of the stack can crash a process.
 */
export interface RawProbe {
  name: string;
  bytes: Buffer;
}

const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;
const get = (path: string, extra: string[] = []): string =>
  crlf([`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...extra]);
const post = (path: string, body: string | Buffer, type = 'application/json', extra: string[] = []): Buffer =>
  Buffer.concat([
    Buffer.from(
      crlf([
        `POST ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Connection: close',
        `Content-Type: ${type}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        ...extra,
      ]),
      'latin1',
    ),
    Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  ]);

/** Paths with something wrong in them; `prefix` puts them under a route prefix (e.g. /api). */
export function malformedPaths(prefix = ''): string[] {
  return [
    '/%',
    '/%%',
    '/%zz',
    '/%E0%A4%A',
    '/%C0%AF',
    '/%FF%FE%FD',
    '/%00',
    '/a%00b',
    '//',
    '//%',
    '//[',
    '//a:b@[::1',
    '/../../../../etc/passwd',
    '/..%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/?a=%',
    '/?%=%&&&==',
    '/elections/%/results',
    '/elections/%E0%A4%A/audit?cursor=%',
    '/votes/%ff',
    `/${'a'.repeat(60000)}`,
    `/${'%25'.repeat(5000)}`,
    `/${'../'.repeat(3000)}`,
  ].map((p) => (prefix && p.startsWith('/') ? `${prefix}${p}` : p));
}

/** The whole battery; `paths` are extra request targets to try on this port. */
export function malformedBattery(paths: string[] = malformedPaths()): RawProbe[] {
  const probes: RawProbe[] = [];
  for (const p of paths) probes.push({ name: `GET ${p.slice(0, 60)}`, bytes: Buffer.from(get(p), 'latin1') });
  const raw = (name: string, s: string | Buffer): void => {
    probes.push({ name, bytes: Buffer.isBuffer(s) ? s : Buffer.from(s, 'latin1') });
  };
  raw('absolute-form bad URL', get('http://[')); // request target is a broken absolute URL
  raw('asterisk-form', get('*'));
  raw('authority-form GET', get('127.0.0.1:80'));
  raw('CONNECT', crlf(['CONNECT 127.0.0.1:22 HTTP/1.1', 'Host: 127.0.0.1:22']));
  raw(
    'non-UTF-8 path bytes',
    Buffer.concat([
      Buffer.from('GET /'),
      Buffer.from([0xff, 0xfe, 0xc0, 0xaf]),
      Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    ]),
  );
  raw(
    'non-UTF-8 header bytes',
    Buffer.concat([
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Bad: '),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]),
  );
  raw('huge header', get('/', [`X-Big: ${'a'.repeat(100000)}`]));
  raw(
    'many headers',
    get(
      '/',
      Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}`),
    ),
  );
  raw('huge cookie', get('/', [`Cookie: ${'k=v; '.repeat(20000)}`]));
  raw('bad header name', get('/', ['Bad Header: x', '(): y']));
  raw('bad method', crlf(['FOO / HTTP/1.1', 'Host: x', 'Connection: close']));
  raw('long method', crlf([`${'G'.repeat(5000)} / HTTP/1.1`, 'Host: x']));
  raw('lower-case method', crlf(['get / HTTP/1.1', 'Host: x']));
  raw('method with NUL', 'GE\x00T / HTTP/1.1\r\nHost: x\r\n\r\n');
  raw('DELETE', crlf(['DELETE / HTTP/1.1', 'Host: x', 'Connection: close']));
  raw('OPTIONS', crlf(['OPTIONS * HTTP/1.1', 'Host: x', 'Connection: close']));
  raw('TRACE', crlf(['TRACE / HTTP/1.1', 'Host: x', 'Connection: close']));
  raw('HTTP/9.9', crlf(['GET / HTTP/9.9', 'Host: x']));
  raw('HTTP/1.0 no host', crlf(['GET / HTTP/1.0']));
  raw('no version', 'GET /\r\n\r\n');
  raw('only CRLF', '\r\n\r\n\r\n\r\n');
  raw('bare LF', 'GET / HTTP/1.1\nHost: x\n\n');
  raw('HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  raw(
    'TLS ClientHello',
    Buffer.from(
      '16030100a5010000a10303' +
        '00'.repeat(32) +
        '000020c02bc02fc02cc030cca9cca8c013c014009c009d002f0035000a0100005800000010000e00000b6578616d706c652e636f6d',
      'hex',
    ),
  );
  raw('random garbage', Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256)));
  raw('invalid JSON', post('/', '{"a": '));
  raw('JSON with lone surrogate', post('/', '{"a":"\\ud800"}'));
  raw('non-UTF-8 JSON', post('/', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])));
  raw('deep JSON', post('/', `${'['.repeat(100000)}${']'.repeat(100000)}`));
  raw('JSON wrong type', post('/', '"a string"'));
  raw('JSON null', post('/', 'null'));
  raw('form body', post('/', 'a=1&b=2', 'application/x-www-form-urlencoded'));
  raw('huge body', post('/', `{"a":"${'x'.repeat(2 * 1024 * 1024)}"}`));
  raw(
    'content-length lies (short body)',
    crlf(['POST / HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 1000']) + '{}',
  );
  raw('negative content-length', crlf(['POST / HTTP/1.1', 'Host: x', 'Content-Length: -5']) + '{}');
  raw(
    'two content-lengths',
    crlf(['POST / HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Content-Length: 3']) + '{}',
  );
  raw(
    'CL and TE',
    crlf(['POST / HTTP/1.1', 'Host: x', 'Content-Length: 4', 'Transfer-Encoding: chunked']) + '0\r\n\r\n',
  );
  raw(
    'bad chunk size',
    crlf(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked']) + 'zz\r\nabc\r\n0\r\n\r\n',
  );
  raw(
    'huge chunk size',
    crlf(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked']) + 'ffffffffffffffff\r\nabc\r\n',
  );
  raw(
    'Expect 100-continue',
    crlf(['POST / HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'Content-Length: 2', 'Connection: close']),
  );
  raw('Upgrade to websocket without key', get('/', ['Upgrade: websocket', 'Connection: Upgrade']));
  raw(
    'Upgrade with bad version',
    get('/', [
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: x',
      'Sec-WebSocket-Version: 99',
    ]),
  );
  raw(
    'Upgrade to h2c',
    get('/', ['Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQAAP__']),
  );
  raw('pipelined garbage', get('/') + get('/%') + '\x00\x01\x02garbage\r\n\r\n');
  raw('half a request', 'GET /health HTTP/1.1\r\nHost: 1');
  return probes;
}

/**
 * Sends `bytes` on a fresh connection and resolves with what came back (possibly
 * nothing) once the server closes, errors or `timeoutMs` passes. Never rejects: a
 * refused or reset connection is an answer too; whether the server survived is
 * checked separately.
 */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1');
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, timeoutMs);
    // Half-close only when the server says nothing for a while (it may be waiting for
    // the rest of a request): some servers drop a streamed answer on an early FIN.
    let quiet: NodeJS.Timeout | undefined;
    s.on('data', (c: Buffer) => {
      clearTimeout(quiet);
      chunks.push(c);
    });
    s.on('error', done);
    s.on('close', () => {
      clearTimeout(quiet);
      done();
    });
    s.on('connect', () => {
      s.write(bytes, () => {
        quiet = setTimeout(() => s.end(), 300);
      });
    });
  });
}

/** The status code of a raw HTTP answer, or undefined when there was none. */
export function statusOf(answer: string): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
  return m ? Number(m[1]) : undefined;
}
