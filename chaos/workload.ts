/**
 * The chaos workload: concurrent clients that use the public HTTP API the way the web
 * app does — submit a vote with an Idempotency-Key, re-submit with the SAME key after
 * an unknown outcome, read the vote's status and the results — and record every
 * operation in the history (invoke, then ok / fail / info). docs/chaos.md "Workload".
 */
import type { HistoryRecorder, Op, ResultsValue, StatusValue, SubmitValue } from './history';
import { type Answer, NoAnswer, call, describe } from './http';
import { type Rng, pick, seededRng, shuffled } from './random';

export interface WorkloadElection {
  id: string;
  /** Option ids. */
  options: string[];
}

export interface WorkloadVoter {
  /** The token's `sub`. */
  id: string;
  token: string;
}

export interface WorkloadOptions {
  apiUrl: string;
  /** For `results` reads (fresh sums) and `close`; without it results are read with a voter's token. */
  adminToken?: string;
  elections: WorkloadElection[];
  /** Each votes at most once in each election. */
  voters: WorkloadVoter[];
  clients: number;
  /** New operations start until then; an unknown submit is still re-sent (same key) afterwards. */
  durationMs: number;
  seed: number;
  history: HistoryRecorder;
  /** Stops everything now: ops in flight are recorded `info` (aborted). */
  signal?: AbortSignal;
  /**
   * Ends the run early once it returns true (checked before each new op; like the
   * deadline, unknown submits still settle): a test stops once the run has covered
   * what it needs, however slow the machine.
   */
  stopWhen?: () => boolean;
  /** Per request; default 5000. */
  requestTimeoutMs?: number;
  /** Close these elections (admin `close` op) at these offsets (ms from the workload's start). */
  closeAt?: Record<string, number>;
  /** Shares of each operation (normalized); default submit 0.6, status 0.25, results 0.1, revote 0.05. */
  mix?: Partial<Record<'submit' | 'status' | 'results' | 'revote', number>>;
  /** Pause between one client's ops (ms); default 10. */
  thinkMs?: number;
  /** How long after its first attempt a submit with an unknown outcome is re-sent; default 30000. */
  retryForMs?: number;
}

/** A vote a client is responsible for until it has a definite answer. */
interface Ballot {
  election: WorkloadElection;
  voter: WorkloadVoter;
  optionId: string;
  key: string;
  firstAt: number;
}

interface Acked {
  election: WorkloadElection;
  voter: WorkloadVoter;
  optionId: string;
  voteId: string;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((r) => {
    if (signal?.aborted) return r();
    const t = setTimeout(r, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      r();
    });
  });

/** How a client understands an answer to a submit. */
type SubmitOutcome = { kind: 'ok'; voteId: string; receipt?: string } | { kind: 'fail' } | { kind: 'info' };

function judgeSubmit(a: Answer): SubmitOutcome {
  const b = a.body as { voteId?: unknown; receipt?: unknown } | undefined;
  if (a.status === 202 && typeof b?.voteId === 'string')
    return { kind: 'ok', voteId: b.voteId, ...(typeof b.receipt === 'string' ? { receipt: b.receipt } : {}) };
  // 503: "the vote may be stored but is not yet safe" (API.md); any other 5xx may come
  // after the write too. Both are unknown outcomes, re-sent with the same key.
  if (a.status >= 500 || a.status === 202) return { kind: 'info' };
  // 4xx: nothing changed (API.md "Bad input … changes nothing"), 429 included.
  return { kind: 'fail' };
}

class Client {
  private readonly acked: Acked[] = [];
  private retry: Ballot | undefined;
  private revotes = 0;

  constructor(
    private readonly name: string,
    private readonly o: WorkloadOptions,
    private readonly rng: Rng,
    private readonly next: () => Ballot | undefined,
    private readonly deadline: number,
    private readonly runId: string,
  ) {}

  private get timeoutMs(): number {
    return this.o.requestTimeoutMs ?? 5000;
  }

  private async send(
    f: string,
    value: unknown,
    method: string,
    path: string,
    token: string | undefined,
    headers: Record<string, string> | undefined,
    body: unknown,
  ): Promise<{ invoke: Op; answer?: Answer; error?: string }> {
    const invoke = this.o.history.invoke(this.name, f, value);
    try {
      const answer = await call(this.o.apiUrl, method, path, {
        ...(token ? { token } : {}),
        ...(headers ? { headers } : {}),
        ...(body === undefined ? {} : { body }),
        timeoutMs: this.timeoutMs,
        ...(this.o.signal ? { signal: this.o.signal } : {}),
      });
      return { invoke, answer };
    } catch (err) {
      if (!(err instanceof NoAnswer)) throw err;
      return { invoke, error: this.o.signal?.aborted ? 'aborted' : err.message };
    }
  }

  /** One submit attempt; returns how long to wait before re-sending, or undefined when settled. */
  private async submit(b: Ballot, revote = false): Promise<number | undefined> {
    const value: SubmitValue = {
      electionId: b.election.id,
      voterId: b.voter.id,
      optionId: b.optionId,
      idempotencyKey: b.key,
      ...(revote ? { revote: true } : {}),
    };
    const { invoke, answer, error } = await this.send(
      'submit',
      value,
      'POST',
      `/elections/${encodeURIComponent(b.election.id)}/votes`,
      b.voter.token,
      { 'idempotency-key': b.key },
      { optionId: b.optionId },
    );
    if (!answer) {
      this.o.history.complete(invoke, 'info', value, error);
      return 200;
    }
    const j = judgeSubmit(answer);
    if (j.kind === 'ok') {
      this.o.history.complete(invoke, 'ok', {
        ...value,
        voteId: j.voteId,
        ...(j.receipt ? { receipt: j.receipt } : {}),
      });
      if (!revote)
        this.acked.push({ election: b.election, voter: b.voter, optionId: b.optionId, voteId: j.voteId });
      return undefined;
    }
    this.o.history.complete(invoke, j.kind, value, describe(answer));
    if (j.kind === 'info') return Math.min(2000, (answer.retryAfterS ?? 0.2) * 1000);
    // Rate limited: nothing changed, the same vote is tried again after the wait.
    if (answer.status === 429) return Math.min(5000, (answer.retryAfterS ?? 1) * 1000);
    return undefined;
  }

  private async status(a: Acked): Promise<void> {
    const value: StatusValue = { electionId: a.election.id, voteId: a.voteId, voterId: a.voter.id };
    const { invoke, answer, error } = await this.send(
      'status',
      value,
      'GET',
      `/votes/${encodeURIComponent(a.voteId)}`,
      a.voter.token,
      undefined,
      undefined,
    );
    if (!answer) return void this.o.history.complete(invoke, 'info', value, error);
    const b = answer.body as { status?: StatusValue['status']; reason?: string } | undefined;
    if (answer.status === 200 && b?.status) {
      this.o.history.complete(invoke, 'ok', {
        ...value,
        status: b.status,
        ...(b.reason ? { reason: b.reason } : {}),
      });
    } else {
      this.o.history.complete(invoke, answer.status >= 500 ? 'info' : 'fail', value, describe(answer));
    }
  }

  private async results(e: WorkloadElection): Promise<void> {
    const value: ResultsValue = { electionId: e.id, ...(this.o.adminToken ? { fresh: true } : {}) };
    const token = this.o.adminToken ?? this.o.voters[pick(this.rng, this.o.voters.length)]?.token;
    const { invoke, answer, error } = await this.send(
      'results',
      value,
      'GET',
      `/elections/${encodeURIComponent(e.id)}/results`,
      token,
      undefined,
      undefined,
    );
    if (!answer) return void this.o.history.complete(invoke, 'info', value, error);
    const b = answer.body as Omit<ResultsValue, 'electionId'> | undefined;
    if (answer.status === 200 && b) {
      this.o.history.complete(invoke, 'ok', {
        ...value,
        totals: b.totals ?? {},
        finalized: b.finalized,
        pending: b.pending,
        rejected: b.rejected,
        final: b.final,
      });
    } else {
      this.o.history.complete(invoke, answer.status >= 500 ? 'info' : 'fail', value, describe(answer));
    }
  }

  private choose(): 'submit' | 'status' | 'results' | 'revote' {
    const m = { submit: 0.6, status: 0.25, results: 0.1, revote: 0.05, ...this.o.mix };
    const total = m.submit + m.status + m.results + m.revote;
    let r = this.rng() * total;
    for (const k of ['submit', 'status', 'results', 'revote'] as const) {
      if (r < m[k]) return k;
      r -= m[k];
    }
    return 'submit';
  }

  async run(): Promise<void> {
    const retryFor = this.o.retryForMs ?? 30_000;
    while (!this.o.signal?.aborted) {
      const now = Date.now();
      if (this.retry) {
        const b = this.retry;
        const wait = await this.submit(b);
        if (wait === undefined || Date.now() - b.firstAt > retryFor) this.retry = undefined;
        else await sleep(wait, this.o.signal);
        continue;
      }
      if (now >= this.deadline || this.o.stopWhen?.()) break;
      const what = this.choose();
      if (what === 'submit') {
        const b = this.next();
        if (b) {
          const wait = await this.submit(b);
          if (wait !== undefined) {
            this.retry = b;
            await sleep(wait, this.o.signal);
          }
        } else if (this.acked.length) await this.status(this.acked[pick(this.rng, this.acked.length)]!);
        else await sleep(100, this.o.signal);
      } else if (what === 'status' && this.acked.length) {
        await this.status(this.acked[pick(this.rng, this.acked.length)]!);
      } else if (what === 'revote' && this.acked.length) {
        // A second vote from another device: a fresh key; the answer must be 409 already_voted.
        const a = this.acked[pick(this.rng, this.acked.length)]!;
        const key = `${this.runId}-${this.name}-re${++this.revotes}`;
        await this.submit(
          { election: a.election, voter: a.voter, optionId: a.optionId, key, firstAt: Date.now() },
          true,
        );
      } else if (this.o.elections.length) {
        await this.results(this.o.elections[pick(this.rng, this.o.elections.length)]!);
      }
      await sleep(this.o.thinkMs ?? 10, this.o.signal);
    }
  }
}

/** The admin's scheduled closes, each recorded as a `close` op (re-sent on an unknown outcome). */
async function closer(o: WorkloadOptions, t0: number): Promise<void> {
  const plan = Object.entries(o.closeAt ?? {}).sort(([, a], [, b]) => a - b);
  for (const [electionId, at] of plan) {
    await sleep(Math.max(0, t0 + at - Date.now()), o.signal);
    for (let attempt = 1; attempt <= 30 && !o.signal?.aborted; attempt++) {
      const value = { electionId };
      const invoke = o.history.invoke('admin', 'close', value);
      let a: Answer;
      try {
        a = await call(o.apiUrl, 'POST', `/elections/${encodeURIComponent(electionId)}/close`, {
          ...(o.adminToken ? { token: o.adminToken } : {}),
          timeoutMs: o.requestTimeoutMs ?? 5000,
          ...(o.signal ? { signal: o.signal } : {}),
        });
      } catch (err) {
        o.history.complete(invoke, 'info', value, o.signal?.aborted ? 'aborted' : (err as Error).message);
        await sleep(500, o.signal);
        continue;
      }
      if (a.status === 200) {
        o.history.complete(invoke, 'ok', value);
        break;
      }
      o.history.complete(invoke, a.status >= 500 ? 'info' : 'fail', value, describe(a));
      if (a.status < 500 && a.status !== 429) break;
      await sleep(Math.min(5000, (a.retryAfterS ?? 0.5) * 1000), o.signal);
    }
  }
}

/**
 * Runs the clients until `durationMs` has passed (then lets unknown submits settle,
 * re-sending the same key up to `retryForMs`) or `signal` aborts. Every voter votes in
 * every election at most once, in a seeded order; clients are `c1`…`cN`, the admin's
 * closes are process `admin`.
 */
export async function runWorkload(o: WorkloadOptions): Promise<void> {
  if (o.clients < 1) throw new Error('runWorkload needs at least one client');
  const rng = seededRng(o.seed);
  const runId = `w${o.seed.toString(36)}-${Date.now().toString(36)}`;
  // Order and choices are drawn up front: the same seed gives the same ballots.
  const pairs = shuffled(
    rng,
    o.elections.flatMap((election) => o.voters.map((voter) => ({ election, voter }))),
  ).map((p) => ({ ...p, optionId: p.election.options[pick(rng, p.election.options.length)]! }));
  let taken = 0;
  const next = (): Ballot | undefined => {
    const p = pairs[taken++];
    if (!p) return undefined;
    return {
      ...p,
      key: `${runId}-${p.voter.id}-${p.election.id}`,
      firstAt: Date.now(),
    };
  };
  const t0 = Date.now();
  const deadline = t0 + o.durationMs;
  const clients = Array.from(
    { length: o.clients },
    (_, i) =>
      new Client(`c${i + 1}`, o, seededRng((o.seed ^ ((i + 1) * 0x9e3779b1)) >>> 0), next, deadline, runId),
  );
  await Promise.all([...clients.map((c) => c.run()), closer(o, t0)]);
}
