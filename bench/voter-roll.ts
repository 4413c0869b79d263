/**
 * `node --import tsx bench/voter-roll.ts [--voters 10000] [--rounds 3] [--concurrency 32]`:
 * issue 17's two voter-onboarding figures, in-process at handler level on a fresh Redis
 * Cluster (the functions' own code, without serverless-offline's HTTP in front):
 *
 * - importing a roll of `--voters` voters (CSV with name and email) with their
 *   credentials made, hashed and stored: `POST /elections/{id}/roll`, median of
 *   `--rounds` imports into fresh elections (goal: 10,000 in < 10 s);
 * - signing in with those credentials: `POST /auth/credential` at `--concurrency`
 *   concurrent clients, each sign-in from its own address (goal: >= 1,000/s);
 * - anchored by the password login it replaces (`POST /auth/token`, one scrypt each) in
 *   the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ensureKeyPair } from '../shared/auth/keys';
import { mintToken } from '../shared/auth/tokens';
import { benchOptions, benchRedis, machine, runBench, writeResult } from './common';
import { recordFigures } from './summary';

const {
  voters: VOTERS,
  rounds: ROUNDS,
  concurrency: CONCURRENCY,
  logins: LOGINS,
} = benchOptions('node --import tsx bench/voter-roll.ts', {
  voters: { default: 10_000, rule: { int: true, min: 1, max: 100_000 }, help: 'voters per imported roll' },
  rounds: { default: 3, rule: { int: true, min: 1 }, help: 'imports measured (median reported)' },
  concurrency: { default: 32, rule: { int: true, min: 1 }, help: 'concurrent credential sign-ins' },
  logins: { default: 6, rule: { int: true, min: 1 }, help: 'password logins for the anchor' },
});

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

let requestNo = 0;
function event(
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  ip: string,
  params: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    pathParameters: params,
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: ip, userAgent: 'bench' },
      requestId: `bench-${++requestNo}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  } as unknown as APIGatewayProxyEventV2;
}

async function call(
  h: Handler,
  ev: APIGatewayProxyEventV2,
): Promise<{
  status: number; // biome-ignore lint/suspicious/noExplicitAny: the bench reads answers ad hoc
  body: any;
}> {
  const res = await h(ev);
  return { status: res.statusCode ?? 0, body: res.body ? JSON.parse(res.body) : undefined };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ipOf = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

async function main(): Promise<void> {
  const cluster = await benchRedis();
  const keyDir = mkdtempSync(join(tmpdir(), 'qv-bench-roll-keys-'));
  try {
    ensureKeyPair({ keyDir });
    Object.assign(process.env, {
      REDIS_SEEDS: cluster.seeds,
      JWT_KEY_DIR: keyDir,
      LOG_LEVEL: 'silent',
      REQUEST_DEADLINE_MS: '60000',
      WEB_ORIGIN: 'https://vote.example.org',
    });
    const load = async (p: string): Promise<Handler> => ((await import(p)) as { handler: Handler }).handler;
    const create = await load('../functions/elections-create');
    const importRoll = await load('../functions/roll-import');
    const signIn = await load('../functions/auth-credential');
    const passwordLogin = await load('../functions/auth-token');
    const admin = {
      authorization: `Bearer ${await mintToken({ sub: 'bench-admin', role: 'admin' }, { keyDir, ttlS: 3600 })}`,
    };

    const csv = [
      'name,email',
      ...Array.from({ length: VOTERS }, (_, i) => `Member ${i},member${i}@example.org`),
    ].join('\r\n');
    const importMs: number[] = [];
    let credentials: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const e = await call(
        create,
        event(
          'POST',
          '/elections',
          {
            title: `Roll ${r}`,
            options: [
              { id: 'a', label: 'A' },
              { id: 'b', label: 'B' },
            ],
          },
          admin,
          '10.0.0.1',
        ),
      );
      const id = e.body.id as string;
      const t = performance.now();
      const res = await call(
        importRoll,
        event('POST', `/elections/${id}/roll`, { csv }, admin, '10.0.0.1', { id }),
      );
      importMs.push(performance.now() - t);
      if (res.status !== 201 || res.body.imported !== VOTERS)
        throw new Error(`import failed: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      if (r === 0) credentials = res.body.voters.map((v: { credential: string }) => v.credential);
    }

    // Credential sign-ins: every credential once, CONCURRENCY at a time.
    let next = 0;
    let refused = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < credentials.length; i = next++) {
          const res = await call(
            signIn,
            event('POST', '/auth/credential', { credential: credentials[i] }, {}, ipOf(i + 2)),
          );
          if (res.status !== 200) refused++;
        }
      }),
    );
    const signInS = (performance.now() - t0) / 1000;
    const perSecond = (credentials.length - refused) / signInS;

    // Anchor: the password login a credential replaces (one scrypt at the default cost).
    const { UserStore } = await import('../shared/auth/users');
    const lib = await import('../functions/lib/redis');
    await new UserStore(lib.redis()).create({
      username: 'bench-voter',
      password: 'bench-password-1',
      role: 'voter',
    });
    const t1 = performance.now();
    for (let i = 0; i < LOGINS; i++) {
      const res = await call(
        passwordLogin,
        event(
          'POST',
          '/auth/token',
          { username: 'bench-voter', password: 'bench-password-1' },
          {},
          ipOf(100_000 + i),
        ),
      );
      if (res.status !== 200) throw new Error(`password login failed: ${res.status}`);
    }
    const loginsPerSecond = LOGINS / ((performance.now() - t1) / 1000);
    lib.redis().disconnect();

    const load1 = loadavg()[0]!.toFixed(2);
    const importS = median(importMs) / 1000;
    console.log(`voter roll (${machine()}, load average ${load1})`);
    console.log(
      `  import of ${VOTERS} voters with credentials: median ${importS.toFixed(2)} s of ${ROUNDS} (${importMs.map((m) => (m / 1000).toFixed(2)).join(', ')} s)`,
    );
    console.log(
      `  credential sign-ins: ${perSecond.toFixed(0)}/s (${credentials.length} at concurrency ${CONCURRENCY}, ${refused} refused)`,
    );
    console.log(`  anchor, password logins (scrypt): ${loginsPerSecond.toFixed(2)}/s`);
    writeResult('voter-roll', {
      at: new Date().toISOString(),
      load: loadavg(),
      voters: VOTERS,
      importMs,
      signInsPerSecond: perSecond,
      refused,
      concurrency: CONCURRENCY,
      passwordLoginsPerSecond: loginsPerSecond,
    });
    recordFigures('voter-roll', [
      {
        id: 'roll.import',
        figure: `voter roll import, ${VOTERS.toLocaleString('en-US')} voters with credentials (handler, median of ${ROUNDS})`,
        value: `${importS.toFixed(2)} s`,
        goal: '< 10 s',
        met: VOTERS >= 10_000 ? importS < 10 : null,
      },
      {
        id: 'roll.credential-sign-ins',
        figure: `credential sign-ins/s (handler, concurrency ${CONCURRENCY})`,
        value: `${perSecond.toFixed(0)}/s`,
        anchor: `password logins ${loginsPerSecond.toFixed(2)}/s`,
        ratio: perSecond / loginsPerSecond,
        goal: '>= 1,000/s',
        met: refused === 0 && perSecond >= 1000,
      },
    ]);
  } finally {
    rmSync(keyDir, { recursive: true, force: true });
    await cluster.dispose();
  }
}

runBench(main);
