import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { portFree } from '../../local/ports';
import { LOCAL_TOPOLOGY } from '../../local/redis-cluster';
import { type LaunchedStack, launchStack } from '../helpers/launcher';
import { malformedBattery, malformedPaths, sendRaw, statusOf } from '../helpers/malformed';

/**
 * `npm start` as a user runs it, attacked through every port it listens on (web server,
 * HTTP API, WebSocket, Lambda invoke, the three coordinator admin ports) with the
 * malformed-request battery: afterwards every process must still be alive and serving.
 * Then the browser's address must reach the per-address limits through the web server,
 * and finally a child that dies must end `npm start` with a non-zero exit code naming
 * it, leaving no process behind. One launch for the whole file.
 */
const FUNCTIONS = [
  'health',
  'authToken',
  'votesSubmit',
  'electionsList',
  'resultsGet',
  'wsConnect',
  'wsDisconnect',
  'wsMessage',
  'broadcast',
  'nope',
];
const PAYLOADS = [
  '',
  'null',
  '[]',
  '{}',
  '"x"',
  '{',
  '{"requestContext":{}}',
  '{"events":"x"}',
  '\u00ff\u00fe',
];

/** Every process below `pid` (children, grandchildren...). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(d), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A GET/POST from a given local address (each stands for one browser). */
function requestFrom(
  localAddress: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method ?? 'GET', headers: init.headers, localAddress },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('npm start under malformed requests, and when a child dies', () => {
  let stack: LaunchedStack;
  let token: string;
  let adminToken: string;

  beforeAll(async () => {
    stack = await launchStack('demo-password-123', 120000, {
      // Low enough to meet in a few requests; the voter limit out of the way.
      RATE_LIMIT_IP: '3',
      RATE_LIMIT_VOTER: '1000',
    });
    const login = async (username: string): Promise<string> => {
      const res = await fetch(`http://127.0.0.1:${stack.http}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: 'demo-password-123' }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    };
    token = await login('alice');
    adminToken = await login('admin');
  }, 150000);

  afterAll(async () => {
    await stack?.stop();
  });

  const ports = (): { name: string; port: number; paths: string[] }[] => [
    { name: 'web', port: stack.web, paths: [...malformedPaths(), ...malformedPaths('/api'), '/ws/%'] },
    { name: 'http', port: stack.http, paths: malformedPaths() },
    { name: 'ws', port: stack.ws, paths: malformedPaths() },
    {
      name: 'lambda',
      port: stack.lambda,
      paths: [...malformedPaths(), '/2015-03-31/functions/%/invocations'],
    },
    ...[0, 1, 2].map((i) => ({ name: `admin-c${i + 1}`, port: stack.admin + i, paths: malformedPaths() })),
  ];

  /** Every part of the stack answers as it should. */
  async function expectServing(): Promise<void> {
    if (!alive(stack.pid) || stack.output().includes('exited unexpectedly')) {
      throw new Error(`npm start is down:\n${stack.output().slice(-4000)}`);
    }
    expect((await fetch(`http://127.0.0.1:${stack.http}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${stack.web}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${stack.web}/api/health`)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`http://127.0.0.1:${stack.admin + i}/status`)).status).toBe(200);
    }
    const invoked = await fetch(
      `http://127.0.0.1:${stack.lambda}/2015-03-31/functions/quorumvote-local-health/invocations`,
      { method: 'POST', body: JSON.stringify({ requestContext: { http: { method: 'GET' } } }) },
    );
    expect(invoked.status).toBe(200);
    const ws = new WebSocket(`ws://127.0.0.1:${stack.ws}?token=${encodeURIComponent(adminToken)}`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify({ action: 'subscribe', topic: 'cluster' })));
      ws.once('message', (m) => resolve(String(m)));
    });
    ws.close();
    expect(JSON.parse(reply)).toMatchObject({ type: 'subscribed', topic: 'cluster' });
  }

  test('no malformed request to any listening port crashes a process; all still serve', async () => {
    await expectServing();
    for (const { name, port, paths } of ports()) {
      for (const probe of malformedBattery(paths)) {
        const answer = await sendRaw(port, probe.bytes);
        const status = statusOf(answer);
        // Never an error of the server's own making (a 502/503 would be a part that is down).
        if (status !== undefined)
          expect({ name, probe: probe.name, status }).not.toMatchObject({ status: 500 });
        expect({ name, probe: probe.name, launcher: alive(stack.pid) }).toEqual({
          name,
          probe: probe.name,
          launcher: true,
        });
      }
    }
    // The invoke port runs any function with any payload, synchronously or not.
    for (const fn of FUNCTIONS) {
      for (const payload of PAYLOADS) {
        for (const type of ['RequestResponse', 'Event']) {
          await fetch(
            `http://127.0.0.1:${stack.lambda}/2015-03-31/functions/quorumvote-local-${fn}/invocations`,
            {
              method: 'POST',
              headers: { 'x-amz-invocation-type': type },
              body: payload,
            },
          ).catch(() => undefined);
        }
      }
    }
    // Garbage frames on an established WebSocket, and a frame announcing 2^63 bytes.
    for (const frame of [
      Buffer.from([0x8f, 0x80, 0, 0, 0, 0]), // reserved opcode
      Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]), // unmasked client frame
      Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]),
      Buffer.from([0xf1, 0x80, 1, 2, 3, 4]), // RSV bits set
    ]) {
      const ws = new WebSocket(`ws://127.0.0.1:${stack.ws}?token=${encodeURIComponent(token)}`);
      await new Promise<void>((resolve) => {
        ws.once('open', () => {
          const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
          raw.write(frame);
          setTimeout(resolve, 200);
        });
        ws.once('error', () => resolve());
      });
      ws.terminate();
    }
    // Let the asynchronous invocations run (and fail) before looking.
    await new Promise((r) => setTimeout(r, 1000));
    await expectServing();
  }, 600000);

  test('each browser behind the web server has its own per-address bucket; a direct client cannot dodge its own with X-Forwarded-For', async () => {
    const created = await fetch(`http://127.0.0.1:${stack.http}/elections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({
        title: 'XFF',
        options: [
          { id: 'yes', label: 'Yes' },
          { id: 'no', label: 'No' },
        ],
      }),
    });
    const createdBody = (await created.json()) as { id: string };
    expect({ status: created.status, createdBody }).toMatchObject({ status: 201 });
    const id = createdBody.id;
    expect(
      (
        await fetch(`http://127.0.0.1:${stack.http}/elections/${id}/open`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}` },
        })
      ).status,
    ).toBe(200);
    const vote = (via: string, from: string, xff?: string) =>
      requestFrom(from, `${via}/elections/${id}/votes`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          ...(xff ? { 'x-forwarded-for': xff } : {}),
        },
        body: JSON.stringify({ optionId: 'yes' }),
      });
    const web = `http://127.0.0.1:${stack.web}/api`;
    // RATE_LIMIT_IP=3: browser A (127.0.0.11) uses its 3 and is refused; it claims
    // other addresses in X-Forwarded-For, to no avail (the web server replaces it).
    const a: number[] = [];
    for (let i = 0; i < 4; i++) a.push((await vote(web, '127.0.0.11', `198.51.100.${i}`)).status);
    expect(a.slice(0, 3)).not.toContain(429);
    expect(a[3]).toBe(429);
    // Browser B (127.0.0.12) behind the same web server still has its own bucket.
    expect((await vote(web, '127.0.0.12')).status).not.toBe(429);
    // A direct client: X-Forwarded-For from anyone but the proxy is ignored.
    const d: number[] = [];
    for (let i = 0; i < 4; i++) {
      d.push((await vote(`http://127.0.0.1:${stack.http}`, '127.0.0.13', `203.0.113.${i}`)).status);
    }
    expect(d[3]).toBe(429);
  }, 60000);

  const coordinatorPid = (nodeId: string): number | undefined =>
    descendants(stack.pid).find((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('coordinator/main.js') &&
          readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`NODE_ID=${nodeId}`)
        );
      } catch {
        return false;
      }
    });

  test('a killed coordinator is reported by name and relaunched; the stack keeps serving', async () => {
    const c2 = coordinatorPid('c2');
    expect(c2).toBeDefined();
    process.kill(c2!, 'SIGKILL');
    const until = Date.now() + 60000;
    while (!/coordinator-c2 relaunched/.test(stack.output()) && Date.now() < until) {
      expect(alive(stack.pid)).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(stack.output()).toMatch(
      /coordinator-c2 exited unexpectedly \(SIGKILL\); relaunching it in \d+ ms/,
    );
    expect(stack.output()).toMatch(/coordinator-c2 relaunched/);
    const again = coordinatorPid('c2');
    expect(again).toBeDefined();
    expect(again).not.toBe(c2);
    const health = await fetch(`http://127.0.0.1:${stack.admin + 1}/health`);
    expect(health.status).toBe(200);
    expect(alive(stack.pid)).toBe(true);
  }, 90000);

  test('serverless-offline dying ends npm start with a non-zero exit code naming it, and nothing is left behind', async () => {
    const before = descendants(stack.pid);
    const offline = before.find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          .replace(/\0/g, ' ')
          .includes('serverless offline');
      } catch {
        return false;
      }
    });
    expect(offline).toBeDefined();
    expect(before.length).toBeGreaterThanOrEqual(10); // Redis nodes, 3 coordinators, serverless-offline
    const cmd = (pid: number): string => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 120);
      } catch {
        return '';
      }
    };
    const names = new Map(before.map((pid) => [pid, cmd(pid)]));
    process.kill(offline!, 'SIGKILL');
    const code = await stack.exitedWithin(60000);
    expect(code).not.toBe('timeout');
    expect(code).not.toBe(0);
    expect(stack.output()).toMatch(/offline exited unexpectedly/);
    expect(stack.output()).not.toMatch(/quorumvote is running[\s\S]*quorumvote is running/);
    // Gone, or a zombie about to be reaped by init (its parent has just exited).
    const running = (pid: number): boolean => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
      } catch {
        return false;
      }
    };
    const until = Date.now() + 5000;
    while (before.some(running) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    for (const pid of before) {
      expect({ pid, cmd: names.get(pid), alive: running(pid) }).toEqual({
        pid,
        cmd: names.get(pid),
        alive: false,
      });
    }
    const all = [
      stack.http,
      stack.ws,
      stack.lambda,
      stack.web,
      stack.admin,
      stack.admin + 1,
      stack.admin + 2,
    ];
    for (let i = 0; i < LOCAL_TOPOLOGY.nodes; i++) all.push(stack.redisBase + i);
    for (const p of all) expect({ port: p, free: await portFree(p) }).toEqual({ port: p, free: true });
  }, 90000);
});
