import { mintToken } from '../../shared/auth/tokens';
import type { CoordinatorStatus } from '../../shared/membership/coordinator-status';
import { type Engine, must, run } from './engine';
import { COORDINATOR_IDS, type SystemState, containerAddress, containerLogs, containerName } from './system';

/**
 * The smoke test of the containerized system, through the HTTP API as a user would:
 * votes go in and are finalized; the leader's container is killed and a new leader is
 * elected; the killed one is started again and rejoins; the next leader's container is
 * stopped (SIGTERM: it must leave gracefully, well before podman's 10 s kill); after
 * each failure votes are still finalized and the totals stay exact.
 */

type Log = (line: string) => void;

async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function http(
  method: string,
  url: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method === 'POST' && /\/votes$/.test(url)) headers['idempotency-key'] = crypto.randomUUID();
  const res = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body: parsed };
}

export async function smokeTest(engine: Engine, state: SystemState, log: Log): Promise<void> {
  const started = Date.now();
  const step = (m: string): void => log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${m}`);
  const api = `http://${await containerAddress(engine, 'functions')}:3000`;
  const web = `http://${await containerAddress(engine, 'web')}:8080`;
  const nodes = new Map<string, string>();
  for (const [id, service] of Object.entries(COORDINATOR_IDS)) {
    nodes.set(id, `http://${await containerAddress(engine, service)}:4000`);
  }
  const down = new Set<string>();
  const status = async (id: string): Promise<CoordinatorStatus | undefined> => {
    try {
      const r = await fetch(`${nodes.get(id)}/status`, { signal: AbortSignal.timeout(1500) });
      return (await r.json()) as CoordinatorStatus;
    } catch {
      return undefined;
    }
  };
  /** A leader every running coordinator agrees on (optionally not `not`). */
  const agreedLeader = (not?: string): Promise<string> =>
    eventually(`an agreed leader${not ? ` other than ${not}` : ''}`, 60_000, async () => {
      const up = [...nodes.keys()].filter((id) => !down.has(id));
      const st = await Promise.all(up.map(status));
      if (st.some((s) => s === undefined)) return undefined;
      const leaders = st.filter((s) => s!.role === 'leader');
      if (leaders.length !== 1 || leaders[0]!.id === not) return undefined;
      const l = leaders[0]!;
      return st.every((s) => s!.leader === l.id && s!.term === l.term) ? l.id : undefined;
    });

  await eventually('the API (functions container) to answer /health', 120_000, async () =>
    (await http('GET', `${api}/health`)).status === 200 ? true : undefined,
  );
  step(`API up at ${api}`);
  let leader = await agreedLeader();
  step(`coordinators agree on leader ${leader}`);
  const hc = await run(engine, 'podman', [
    'healthcheck',
    'run',
    containerName(engine, COORDINATOR_IDS[leader]!),
  ]);
  if (hc.code !== 0) throw new Error(`HEALTHCHECK of ${leader} failed: ${hc.stdout}${hc.stderr}`);
  step(`HEALTHCHECK of ${leader}'s container: healthy`);
  const webRes = await http('GET', `${web}/api/health`);
  const page = await fetch(`${web}/`, { signal: AbortSignal.timeout(10_000) });
  if (webRes.status !== 200 || !(await page.text()).includes('<html')) {
    throw new Error(`the web app at ${web} does not serve the app and /api (status ${webRes.status})`);
  }
  step(`web app at ${web} serves the app and proxies /api`);

  const tokenOpts = { keyDir: state.keyDir, ttlS: 3600 };
  const admin = await mintToken({ sub: 'smoke-admin', role: 'admin' }, tokenOpts);
  const created = await http('POST', `${api}/elections`, admin, {
    title: 'Containers smoke test',
    options: [
      { id: 'yes', label: 'Yes' },
      { id: 'no', label: 'No' },
    ],
  });
  if (created.status !== 201)
    throw new Error(`creating an election: ${created.status} ${JSON.stringify(created.body)}`);
  const election = created.body.id as string;
  const opened = await http('POST', `${api}/elections/${election}/open`, admin);
  if (opened.status !== 200)
    throw new Error(`opening the election: ${opened.status} ${JSON.stringify(opened.body)}`);
  const cast = { yes: 0, no: 0 };
  let voter = 0;
  /** Casts `n` votes (alternating yes/no) and waits until each is finalized. */
  const vote = async (n: number, when: string): Promise<void> => {
    const ids: { voteId: string; token: string }[] = [];
    for (let i = 0; i < n; i++) {
      const choice = voter % 3 === 2 ? 'no' : 'yes';
      const token = await mintToken({ sub: `smoke-voter-${++voter}`, role: 'voter' }, tokenOpts);
      const r = await eventually(`vote ${voter} accepted`, 30_000, async () => {
        const res = await http('POST', `${api}/elections/${election}/votes`, token, { optionId: choice });
        if (res.status === 202) return res;
        if (res.status === 503) return undefined;
        throw new Error(`vote answered ${res.status} ${JSON.stringify(res.body)}`);
      });
      cast[choice]++;
      ids.push({ voteId: r.body.voteId, token });
    }
    for (const { voteId, token } of ids) {
      await eventually(`vote ${voteId} finalized`, 60_000, async () => {
        const s = await http('GET', `${api}/votes/${voteId}`, token);
        return s.body?.status === 'finalized' ? true : undefined;
      });
    }
    step(`${n} votes finalized ${when}`);
  };
  const expectTotals = async (): Promise<void> => {
    const res = await eventually('exact totals', 30_000, async () => {
      const r = await http('GET', `${api}/elections/${election}/results`, admin);
      const t = r.body?.totals;
      return t && t.yes === cast.yes && t.no === cast.no && r.body.pending === 0 ? r.body : undefined;
    }).catch(async (err: Error) => {
      const r = await http('GET', `${api}/elections/${election}/results`, admin);
      throw new Error(`${err.message}; cast ${JSON.stringify(cast)}, results ${JSON.stringify(r.body)}`);
    });
    step(`totals exact: ${JSON.stringify(res.totals)} (${res.finalized} finalized)`);
  };

  await vote(4, 'with all three coordinators');
  await expectTotals();

  const killed = leader;
  await must(engine, 'podman', ['kill', containerName(engine, COORDINATOR_IDS[killed]!)]);
  down.add(killed);
  step(`killed the leader's container (${killed}, SIGKILL)`);
  leader = await agreedLeader(killed);
  step(`new leader ${leader}`);
  await vote(4, 'after the leader was killed');
  await expectTotals();

  await must(engine, 'podman', ['start', containerName(engine, COORDINATOR_IDS[killed]!)]);
  // A restarted container may get another address: its peers find it by name
  // (ADVERTISE_URL), this test by asking podman again.
  nodes.set(killed, `http://${await containerAddress(engine, COORDINATOR_IDS[killed]!)}:4000`);
  down.delete(killed);
  leader = await agreedLeader();
  step(`${killed} restarted and rejoined; leader ${leader}`);

  const stopped = leader;
  const stopAt = Date.now();
  await must(engine, 'podman', ['stop', '-t', '10', containerName(engine, COORDINATOR_IDS[stopped]!)], {
    timeoutMs: 30_000,
  });
  const stopMs = Date.now() - stopAt;
  down.add(stopped);
  const exit = (
    await must(engine, 'podman', [
      'inspect',
      '-f',
      '{{.State.ExitCode}}',
      containerName(engine, COORDINATOR_IDS[stopped]!),
    ])
  ).trim();
  if (exit !== '0' || stopMs >= 9000) {
    throw new Error(
      `stopping ${stopped} (SIGTERM) was not a graceful leave: exit code ${exit} after ${stopMs} ms\n${await containerLogs(engine, COORDINATOR_IDS[stopped]!)}`,
    );
  }
  step(`stopped the leader's container (${stopped}, SIGTERM): exit 0 in ${stopMs} ms`);
  leader = await agreedLeader(stopped);
  step(`new leader ${leader}`);
  await vote(4, 'after the leader was stopped');
  await expectTotals();
  step('smoke test passed');
}
