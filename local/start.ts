/**
 * `npm start`: the whole stack on this machine — a 9-node Redis Cluster (3 masters with
 * 2 replicas each; a node that dies is relaunched and rejoins as a replica), three
 * coordinators and serverless-offline — with prefixed logs. Ctrl-C (or SIGTERM)
 * stops everything and leaves no process or port behind.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { portFree } from './ports';
import { describeTaken, enginesNode, nodeVersionProblem, takenPorts } from './preflight';
import { onUnexpectedExit, stopAllManaged } from './processes';
import { LOCAL_TOPOLOGY } from './redis-cluster';
import { repoRoot, startStack } from './stack';
import type { WarmUpReport } from './warm-up';
import { createRedisCluster } from '../shared/redis/client';
import { loadConfig, parseSeeds } from '../shared/config';
import { loadSettings } from '../shared/settings/load';
import { demoPasswords, passwordFor, seedDemoUsers } from './seed-users';
import { CLUSTER_SECRET_FILE_NAME, ensureClusterSecretFile } from '../coordinator/peer-secret';
import { buildWebApp, startWebServer, type WebServer } from './web-server';
import { loopbackOnly, webUrls } from './lan-urls';

const colors = ['\x1b[36m', '\x1b[35m', '\x1b[33m', '\x1b[32m', '\x1b[34m', '\x1b[31m'];
const names = new Map<string, string>();
const tty = process.stdout.isTTY;
function prefix(name: string): string {
  if (!names.has(name)) names.set(name, colors[names.size % colors.length]!);
  const label = name.padEnd(9).slice(0, 9);
  return tty ? `${names.get(name)}${label}\x1b[0m |` : `${label} |`;
}
const print = (name: string, line: string): void => {
  process.stdout.write(`${prefix(name)} ${line}\n`);
};

let stopping = false;
let stack: Awaited<ReturnType<typeof startStack>> | undefined;
let web: WebServer | undefined;
/** Stops everything; exits 0 on a requested stop, `code` when something failed. */
const stop = (signal: string, code = 0): void => {
  if (stopping) return;
  stopping = true;
  print('stack', `${signal}: stopping everything…`);
  // Before the stack is up, stop whatever has started so far.
  Promise.resolve(web?.close())
    .then(() => (stack ? stack.stop() : stopAllManaged()))
    .then(
      () => {
        print('stack', 'stopped; no process left behind');
        process.exit(code);
      },
      () => process.exit(1),
    );
};
// A bug in this process must not SIGKILL every Redis node on the way out (the 'exit'
// handler of processes.ts would): stop the children gracefully and say why.
const crash = (what: string) => (err: unknown) => {
  print('stack', `${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  stop(`launcher error (${what})`, 1);
};
process.on('uncaughtException', crash('uncaught exception'));
process.on('unhandledRejection', crash('unhandled rejection'));

async function main(): Promise<void> {
  const started = Date.now();
  // Checked before anything starts: a wrong Node or a taken port is one clear line now,
  // not a child dying (or another program answering in its place) half-way through.
  const engines = enginesNode(repoRoot);
  const nodeProblem = engines ? nodeVersionProblem(engines, process.version) : null;
  if (nodeProblem) throw new Error(nodeProblem);
  // The local stack is a development deployment (reset allowed, demo users); an unset
  // NODE_ENV elsewhere means production. Children inherit it.
  process.env['NODE_ENV'] ||= 'development';
  // Readable one-line logs from every child (JSON lines elsewhere): a person reads these.
  process.env['LOG_FORMAT'] ||= 'pretty';
  // Coordinators authenticate each other with a cluster secret: unless one is supplied,
  // it lives in the local key folder (generated once, mode 0600). Children inherit the path.
  if (!process.env['CLUSTER_SECRET'] && !process.env['CLUSTER_SECRET_FILE']) {
    process.env['CLUSTER_SECRET_FILE'] = ensureClusterSecretFile(
      join(resolve(repoRoot, loadConfig().jwt.keyDir), CLUSTER_SECRET_FILE_NAME),
    );
  }
  const settings = loadSettings();
  const httpPort = settings.HTTP_PORT;
  const wsPort = settings.WS_PORT;
  const lambdaPort = settings.LAMBDA_PORT;
  const webPort = settings.WEB_PORT;
  const redisBase = settings.REDIS_BASE_PORT;
  const adminBase = settings.COORDINATOR_BASE_PORT;
  const webPortExplicit = (process.env['WEB_PORT'] ?? '') !== '';
  const taken = await takenPorts(settings, webPortExplicit);
  if (taken.length > 0) throw new Error(`a port the stack needs is taken\n${describeTaken(taken)}`);
  const coordinators = ['c1', 'c2', 'c3'].map((nodeId, i) => ({ nodeId, adminPort: adminBase + i }));
  print('stack', 'bundling functions and coordinator (esbuild, when a source changed)…');
  execFileSync(process.execPath, [join(repoRoot, 'scripts/build.mjs'), '--if-changed'], { stdio: 'inherit' });
  print('stack', 'building the web app (vite)…');
  buildWebApp();
  print('stack', 'starting Redis Cluster, coordinators and serverless-offline…');
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  // `npm start` does not pass SIGTERM on to us: when npm goes away, so do we.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop('parent exited');
  }, 300).unref();

  // The web server proxies the API from its own loopback address, the one address the
  // API believes X-Forwarded-For from: every browser then has its own per-address
  // buckets, and a client calling the API directly cannot claim another address.
  // The invoke port (3002) runs any function for any local process: coordinators sign
  // their `broadcast` invokes with this secret and the function refuses others.
  process.env['INVOKE_SECRET'] ||= randomBytes(32).toString('base64url');
  const proxyAddress = settings.WEB_PROXY_ADDRESS;
  const proxyUsable = await portFree(0, proxyAddress);
  if (proxyUsable) process.env['TRUSTED_PROXIES'] ||= proxyAddress;
  else print('stack', `cannot bind ${proxyAddress}: the API sees every browser as 127.0.0.1`);

  // The web server starts first (until the API is up, its proxy answers 502): a WEB_HOST
  // that cannot be bound ends npm start at once. An explicit WEB_PORT must be free; the
  // default falls back to any free port.
  // WEB_HOST puts the web app (and, through its same-origin /api and /ws proxy, the
  // API and the WebSocket) on a LAN address, so phones in the room can join a poll.
  const webHost = settings.WEB_HOST;
  try {
    web = await startWebServer({
      port: webPort,
      host: webHost,
      httpPort,
      wsPort,
      fallbackPort: !webPortExplicit,
      ...(proxyUsable ? { proxyAddress } : {}),
    });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `the web server cannot listen on WEB_HOST=${webHost} (${why}): is it an address of this machine?`,
    );
  }
  const webAt = webUrls(webHost, web.port);
  // Links the API makes for people to open elsewhere (voting links, join links) carry
  // the address the web app is reachable at; the functions inherit it.
  process.env['WEB_ORIGIN'] ||= webAt[0]!;

  stack = await startStack({
    redis: {
      basePort: redisBase,
      ...LOCAL_TOPOLOGY,
      relaunch: true,
      relaunchDelayMs: settings.REDIS_RELAUNCH_DELAY_MS,
      // Like the coordinators: more than 3 deaths of one node in a minute is a crash loop.
      relaunchLimit: {
        maxRestarts: 3,
        windowMs: 60_000,
        onGiveUp: (port, code) => {
          print(
            'stack',
            `redis-server on port ${port} exited unexpectedly (${code}) again and again; the stack is not complete`,
          );
          stop(`redis-server on port ${port} died`, 1);
        },
      },
      dataDir: settings.REDIS_DATA_DIR,
      log: (m) => print('redis', m),
    },
    coordinators,
    offline: { httpPort, wsPort, lambdaPort },
    onLine: (name, line) => print(name, line),
    // Provisioned concurrency, locally: every function loaded before "ready", not by the first
    // voters (WARM_FUNCTIONS=off skips it: the tests that start whole stacks, which never
    // measure a first rush, save 43 function loads each).
    ...(settings.WARM_FUNCTIONS === 'off'
      ? {}
      : {
          warm: (report: WarmUpReport) => {
            const cold = Object.entries(report.functions).filter(([, status]) => status !== 200);
            print(
              'stack',
              `warmed ${Object.keys(report.functions).length - cold.length} functions in ${report.ms} ms` +
                (cold.length ? `; not warmed: ${cold.map(([k, s]) => `${k} (${s})`).join(', ')}` : ''),
            );
          },
        }),
    // Killing a coordinator (even the leader) is a drill the cluster survives: it is
    // reported and relaunched, as a container's restart policy would. A crash loop is not.
    relaunchCoordinators: {
      maxRestarts: 3,
      windowMs: 60_000,
      delayMs: settings.COORDINATOR_RELAUNCH_DELAY_MS,
      report: (_nodeId, what) => print('stack', what),
      onGiveUp: (name, code) => {
        print('stack', `${name} exited unexpectedly (${code}) again and again; the stack is not complete`);
        stop(`${name} died`, 1);
      },
    },
  });

  // serverless-offline is the one part nothing replaces: if it dies, say so by name and
  // end `npm start` with a non-zero exit code instead of a "running" stack with a hole.
  // Redis nodes and coordinators are relaunched (see above).
  onUnexpectedExit([stack.offline], (p, code) => {
    print('stack', `${p.name} exited unexpectedly (${code}); the stack is not complete`);
    stop(`${p.name} died`, 1);
  });

  const redis = createRedisCluster(parseSeeds(stack.redis.seeds));
  const passwords = demoPasswords();
  const users = await seedDemoUsers(redis, passwords);
  redis.disconnect();

  if (stopping) return;
  // Whatever died while the stack came up (and is not already being handled) means it
  // is not running: say which part, and stop.
  const dead = [...stack.redis.processes, ...stack.coordinators.values(), stack.offline].filter(
    (p) => !p.alive,
  );
  if (dead.length > 0) {
    throw new Error(`${dead.map((p) => p.name).join(', ')} exited while the stack was starting`);
  }
  const rows: [string, string][] = [
    ['Web app', webAt.join('  ')],
    ['HTTP API', `http://127.0.0.1:${httpPort}`],
    ['WebSocket', `ws://127.0.0.1:${wsPort}`],
    ['Lambda invoke', `http://127.0.0.1:${lambdaPort}`],
    ['Test client', `http://127.0.0.1:${httpPort}/client`],
    ...coordinators.map((c): [string, string] => [
      `coordinator ${c.nodeId}`,
      `http://127.0.0.1:${c.adminPort}/status`,
    ]),
    [
      'Redis Cluster',
      stack.redis.seeds.replace(/127\.0\.0\.1:/g, '').replace(/,/g, ' ') + ' (3 masters + 6 replicas)',
    ],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  const lines = [
    '',
    `quorumvote is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
    passwords.admin === passwords.others
      ? `Demo users (password: ${passwords.others}):`
      : `Demo users (admin password: ${passwords.admin}; everybody else: ${passwords.others}):`,
    ...Object.entries(users).map(
      ([name, u]) =>
        `  ${name.padEnd(8)} ${u.role.padEnd(8)} ${u.id}  password: ${passwordFor(passwords, u.role)}`,
    ),
    '',
    `Join links of code polls: ${webAt[0]}/#/join/<code>`,
    ...(loopbackOnly(webHost)
      ? [
          'Only this machine can reach the web app: for a poll that phones in the room join, start',
          "with WEB_HOST=<this machine's LAN address> (or WEB_HOST=0.0.0.0 for all of them).",
        ]
      : [
          `Phones on this network open ${webAt[0]}: the web app, the API and the WebSocket through`,
          'one port. Open the admin pages at this address, so the join links and QR codes carry it.',
        ]),
    '',
    `Try: curl -s -XPOST http://127.0.0.1:${httpPort}/auth/token -H 'content-type: application/json' -d '{"username":"alice","password":"${passwords.others}"}'`,
    'Press Ctrl-C to stop everything.',
    '',
  ];
  for (const l of lines) print('stack', l);
}

main().catch((err: unknown) => {
  if (stopping) return; // already stopping (a child died meanwhile): let that finish
  print('stack', `failed to start: ${err instanceof Error ? err.message : String(err)}`);
  stop('start failed', 1);
});
