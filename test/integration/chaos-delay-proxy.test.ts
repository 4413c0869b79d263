import { spawn } from 'node:child_process';
import { type AddressInfo, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../local/ports';

/**
 * The chaos suite's delaying proxy may delay and reset, never reorder: TCP delivers a
 * connection's bytes in order, and a proxy that swapped two chunks would corrupt the
 * Redis protocol (a reply read as another's) — a fault no real network makes.
 */
test('the delay proxy keeps the byte order of a connection under jitter', async () => {
  const echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const echoPort = (echo.address() as AddressInfo).port;
  const port = await freePort();
  const proxy = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, '../../chaos/delay-proxy.ts'),
      String(port),
      '127.0.0.1',
      String(echoPort),
      '2',
      '40',
      '0',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise((r) => proxy.stdout.once('data', r));
    const n = 3000;
    const s = connect({ host: '127.0.0.1', port });
    await new Promise((r) => s.once('connect', r));
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
    });
    for (let i = 0; i < n; i++) {
      s.write(`${i},`);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    const want = Array.from({ length: n }, (_, i) => `${i},`).join('');
    const until = Date.now() + 20000;
    while (got.length < want.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    expect(got.length).toBe(want.length);
    expect(got === want).toBe(true);
  } finally {
    proxy.kill('SIGKILL');
    echo.close();
  }
}, 40000);
