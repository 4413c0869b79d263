import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mintToken } from '../shared/auth/tokens';
import { type CheckReport, checkHistory, formatReport, unaccountedVotes } from './checker';
import type { LeaderEvent } from './checker/types';
import { type FinalState, readFinalState, readVoteStatuses } from './final-state';
import { HistoryRecorder } from './history';
import { HostStack, agreedLeader, redisHealth, waitFor } from './host-stack';
import { hostsDown, hostsUp, topology } from './hosts';
import { call } from './http';
import { type FaultWindow, Nemesis } from './nemesis';
import { renderReport } from './report-html';
import type { ChaosRunOptions } from './run-options';
import { makeSchedule } from './schedule';
import { type WorkloadElection, type WorkloadVoter, runWorkload } from './workload';

/**
 * One chaos run, start to end: simulated hosts up, the stack on them, elections and
 * voters, the workload and the nemesis at the same time, then heal, close and drain,
 * read the final state through the public API, check the history, and write the run
 * folder (seed, schedule, history.ndjson, logs/, report.json, report.html). Everything
 * started is stopped and every host removed, also when a step fails or `signal` aborts.
 */
export interface ChaosRunResult {
  runDir: string;
  report: CheckReport;
  faults: FaultWindow[];
  /** Human-readable summary (verdicts, per-fault table). */
  summary: string;
}

export interface ChaosRunHooks {
  log?(m: string): void;
  signal?: AbortSignal;
}

const OPTIONS = ['red', 'green', 'blue'];

export async function runChaos(o: ChaosRunOptions, hooks: ChaosRunHooks = {}): Promise<ChaosRunResult> {
  const log = hooks.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = join(o.outDir, `run-${stamp}-seed${o.seed}`);
  mkdirSync(runDir, { recursive: true });
  const schedule = makeSchedule(o.seed, o.faults, 10_000, o.elections - 1);
  writeFileSync(join(runDir, 'seed.txt'), `${o.seed}\n`);
  writeFileSync(join(runDir, 'options.json'), JSON.stringify(o, null, 2));
  writeFileSync(join(runDir, 'schedule.json'), JSON.stringify(schedule.slice(0, 200), null, 2));
  log(`chaos run: seed ${o.seed}, ${o.durationS} s, faults ${o.faults.join(',')}; folder ${runDir}`);

  const t = topology();
  const t0 = performance.now();
  const history = new HistoryRecorder(t0);
  const leaderEvents: LeaderEvent[] = [];
  let fencedFinalizes = 0;
  const keyDir = join(runDir, 'keys');
  const stack = new HostStack({
    topology: t,
    runDir,
    keyDir,
    log,
    // A crash nobody injected (e.g. a replica aborting on a broken sync) is relaunched,
    // and kept in the history so the report shows it among the faults.
    onCrash: (name, code) => {
      log(`[crash ${sec(performance.now() - t0)}] ${name} exited unexpectedly (${code}); relaunching it`);
      history.nemesis('crash', { targets: [name], code: String(code) });
    },
    onLine: (name, line) => {
      if (!name.startsWith('coordinator-')) return;
      // Evidence that fencing was exercised, not only that nothing slipped through it.
      if (line.includes('"finalize fenced')) fencedFinalizes++;
      if (!line.includes('role changed')) return;
      try {
        const l = JSON.parse(line) as { msg?: string; role?: string; term?: number };
        if (l.msg === 'role changed' && l.role === 'leader' && typeof l.term === 'number')
          leaderEvents.push({
            node: name.slice('coordinator-'.length),
            term: l.term,
            time: performance.now() - t0,
          });
      } catch {
        // not a JSON log line
      }
    },
  });
  let nemesis: Nemesis | undefined;
  let progress: NodeJS.Timeout | undefined;
  try {
    hostsUp(t, log);
    await stack.start();
    const admin = await mintToken({ sub: 'chaos-admin', role: 'admin' }, { keyDir, ttlS: 6 * 3600 });
    const elections = await createElections(stack.apiUrl, admin, o.elections);
    log(`${elections.length} elections open; minting ${o.voters} voters`);
    const voters: WorkloadVoter[] = [];
    for (let i = 0; i < o.voters; i++) {
      const id = `v${i}`;
      voters.push({ id, token: await mintToken({ sub: id, role: 'voter' }, { keyDir, ttlS: 6 * 3600 }) });
    }
    const closeElection = async (id: string): Promise<void> => {
      // Recorded as the admin's `close`, like the workload's own closes.
      const op = history.invoke('admin', 'close', { electionId: id });
      try {
        const a = await call(stack.apiUrl, 'POST', `/elections/${encodeURIComponent(id)}/close`, {
          token: admin,
          timeoutMs: 10000,
        });
        history.complete(
          op,
          a.status === 200 ? 'ok' : 'fail',
          undefined,
          a.status === 200 ? undefined : `${a.status} ${a.code ?? ''}`,
        );
      } catch (err) {
        history.complete(op, 'info', undefined, (err as Error).message);
        throw err;
      }
    };
    nemesis = new Nemesis({
      stack,
      history,
      // The last election stays open through the faults: intake never runs out of elections.
      closable: elections.slice(0, -1).map((e) => e.id),
      closeElection,
      log: (m) => log(`[nemesis ${sec(performance.now() - t0)}] ${m}`),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
    });
    const durationMs = o.durationS * 1000;
    const deadline = Date.now() + durationMs;
    if (o.progressMs > 0)
      progress = setInterval(() => log(progressLine(history, nemesis!, t0, durationMs)), o.progressMs);
    await Promise.all([
      runWorkload({
        apiUrl: stack.apiUrl,
        adminToken: admin,
        elections,
        voters,
        clients: o.clients,
        durationMs,
        seed: o.seed,
        history,
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      }),
      nemesis.run(schedule, deadline),
    ]);
    clearInterval(progress);
    log('workload done; healing every fault and waiting for the cluster to recover');
    await nemesis.healAll();
    await waitFor(
      async () => Boolean((await agreedLeader(t)) && (await redisHealth(t.redis)).ok),
      60000,
      'the healed cluster',
    ).catch((err) => log(`warning: ${(err as Error).message}`));
    // Close what is still open so every election reaches a final, drained state.
    const closed = new Set(
      history
        .ops()
        .filter((x) => x.process === 'admin' && x.f === 'close' && x.type === 'ok')
        .map((x) => (x.value as { electionId: string }).electionId),
    );
    for (const e of elections) if (!closed.has(e.id)) await closeElection(e.id).catch(() => {});
    log('reading the final state through the API');
    const final = await readFinal(stack.apiUrl, admin, elections, history);
    const ops = history.ops();
    const report = checkHistory({ history: ops, final, leaderHistory: leaderEvents });
    history.writeNdjson(join(runDir, 'history.ndjson'));
    writeFileSync(join(runDir, 'final-state.json'), JSON.stringify(final));
    writeFileSync(join(runDir, 'faults.json'), JSON.stringify(nemesis.windows, null, 2));
    writeFileSync(join(runDir, 'leaders.json'), JSON.stringify(leaderEvents));
    writeFileSync(join(runDir, 'report.json'), JSON.stringify(report, null, 2));
    writeFileSync(
      join(runDir, 'report.html'),
      renderReport({
        history: ops,
        report,
        faults: ops.filter((x) => x.process === 'nemesis'),
        title: `chaos run seed ${o.seed}`,
        seed: o.seed,
        params: [
          ['duration', `${o.durationS} s`],
          ['fault classes', o.faults.join(', ')],
          ['faults injected', String(nemesis.windows.length)],
          ['clients / elections / voters', `${o.clients} / ${o.elections} / ${o.voters}`],
          [
            'replay',
            `npm run chaos -- --duration ${o.durationS} --seed ${o.seed} --faults ${o.faults.join(',')}`,
          ],
        ],
      }),
    );
    const summary = summarize(o, report, nemesis.windows, runDir, { fencedFinalizes });
    writeFileSync(join(runDir, 'summary.txt'), summary);
    return { runDir, report, faults: nemesis.windows, summary };
  } finally {
    clearInterval(progress);
    await nemesis?.healAll().catch(() => {});
    await stack.stop();
    hostsDown(() => {}, t.net);
  }
}

async function createElections(apiUrl: string, admin: string, n: number): Promise<WorkloadElection[]> {
  const out: WorkloadElection[] = [];
  for (let i = 0; i < n; i++) {
    const created = await call(apiUrl, 'POST', '/elections', {
      token: admin,
      body: { title: `chaos ${i + 1}`, options: OPTIONS.map((id) => ({ id, label: id })) },
      timeoutMs: 15000,
    });
    if (created.status !== 201)
      throw new Error(`creating an election: ${created.status} ${JSON.stringify(created.body)}`);
    const id = (created.body as { id: string }).id;
    const opened = await call(apiUrl, 'POST', `/elections/${encodeURIComponent(id)}/open`, {
      token: admin,
      timeoutMs: 15000,
    });
    if (opened.status !== 200)
      throw new Error(`opening ${id}: ${opened.status} ${JSON.stringify(opened.body)}`);
    out.push({ id, options: OPTIONS });
  }
  return out;
}

/** The final state, with the statuses of acknowledged votes the audit log lacks (lost or pending?). */
async function readFinal(
  apiUrl: string,
  admin: string,
  elections: WorkloadElection[],
  history: HistoryRecorder,
): Promise<FinalState> {
  const final = await readFinalState({
    apiUrl,
    adminToken: admin,
    electionIds: elections.map((e) => e.id),
    waitFinalMs: 120000,
  });
  final.votes = await readVoteStatuses({ apiUrl, adminToken: admin }, unaccountedVotes(history.ops(), final));
  return final;
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

function progressLine(history: HistoryRecorder, nemesis: Nemesis, t0: number, durationMs: number): string {
  const ops = history.ops();
  const done = ops.filter((x) => x.type !== 'invoke' && x.process !== 'nemesis');
  const c = { ok: 0, fail: 0, info: 0 };
  for (const x of done) c[x.type as 'ok' | 'fail' | 'info']++;
  const acked = done.filter((x) => x.f === 'submit' && x.type === 'ok').length;
  const recent = done.filter((x) => x.time > performance.now() - t0 - 5000);
  const w = nemesis.windows.at(-1);
  const fault = !w
    ? 'none'
    : w.end === 0
      ? `${w.kind} ${w.targets.join(',')}`
      : w.recovered === null
        ? `healed ${w.kind}, recovering`
        : 'none';
  return (
    `[${sec(performance.now() - t0)}/${sec(durationMs)}] ops ${done.length} (ok ${c.ok} fail ${c.fail} info ${c.info}), ` +
    `acked votes ${acked}, ${(recent.length / 5).toFixed(1)} ops/s | faults ${nemesis.windows.length}, now: ${fault}`
  );
}

/** The verdicts and the per-fault table printed at the end and kept in summary.txt. */
export function summarize(
  o: ChaosRunOptions,
  r: CheckReport,
  faults: readonly FaultWindow[],
  runDir: string,
  evidence?: { fencedFinalizes: number },
): string {
  const lines: string[] = [];
  lines.push(`seed ${o.seed}, ${o.durationS} s, fault classes ${o.faults.join(',')}`);
  lines.push(formatReport(r));
  if (evidence)
    lines.push(
      `  fencing exercised: ${evidence.fencedFinalizes} finalize batches of owners that had lost their partition were refused by the fence (coordinators' logs)`,
    );
  lines.push('');
  lines.push(...perKindTable(r, faults));
  lines.push('');
  lines.push(
    '| # | fault | targets | held s | recovered after s | ops in window | failed share | intake stop s | finalization stop s |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const f of faults) {
    // The checker's windows come from the same nemesis ops: match on the starting op.
    const j = r.windows.findIndex((x) => x.startOp === f.startOp);
    const w = j >= 0 ? r.availability.windows[j] : undefined;
    lines.push(
      `| ${f.id} | ${f.kind} | ${f.targets.join(',')} | ${((f.end - f.start) / 1000).toFixed(1)} | ` +
        `${f.recovered ? ((f.recovered - f.end) / 1000).toFixed(1) : 'no'} | ${w?.ops ?? '-'} | ` +
        `${w ? (w.failedShare * 100).toFixed(1) + '%' : '-'} | ${w ? (w.intakeStopMs / 1000).toFixed(1) : '-'} | ` +
        `${w ? (w.finalizationStopMs / 1000).toFixed(1) : '-'} |`,
    );
  }
  lines.push('');
  lines.push(`verdict: ${r.valid ? 'VALID' : 'INVALID'}; history, logs and report in ${runDir}`);
  return lines.join('\n');
}

/**
 * One row per fault kind: how often it was injected and the worst it did to
 * availability, the table docs/chaos.md publishes for a long run.
 */
export function perKindTable(r: CheckReport, faults: readonly FaultWindow[]): string[] {
  interface Row {
    n: number;
    ops: number;
    bad: number;
    intake: number;
    finalization: number;
    recovery: number;
    unseen: number;
  }
  const rows = new Map<string, Row>();
  for (const f of faults) {
    const j = r.windows.findIndex((x) => x.startOp === f.startOp);
    const w = j >= 0 ? r.availability.windows[j] : undefined;
    const row = rows.get(f.kind) ?? {
      n: 0,
      ops: 0,
      bad: 0,
      intake: 0,
      finalization: 0,
      recovery: 0,
      unseen: 0,
    };
    row.n++;
    if (w) {
      row.ops += w.ops;
      row.bad += w.failedShare * w.ops;
      row.intake = Math.max(row.intake, w.intakeStopMs);
      row.finalization = Math.max(row.finalization, w.finalizationStopMs);
    }
    if (f.recovered === null) row.unseen++;
    else row.recovery = Math.max(row.recovery, f.recovered - f.end);
    rows.set(f.kind, row);
  }
  const lines = [
    '| fault | injected | ops in windows | failed or unknown | longest intake stop s | longest finalization stop s | slowest recovery after heal s |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [kind, x] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
    const share = x.ops > 0 ? ((100 * x.bad) / x.ops).toFixed(1) : '0.0';
    const unseen = x.unseen > 0 ? ` (${x.unseen} not seen)` : '';
    lines.push(
      `| ${kind} | ${x.n} | ${x.ops} | ${share} % | ${(x.intake / 1000).toFixed(1)} | ` +
        `${(x.finalization / 1000).toFixed(1)} | ${(x.recovery / 1000).toFixed(1)}${unseen} |`,
    );
  }
  return lines;
}
