/**
 * The chaos suite's history: every operation a client or the nemesis attempted and what
 * came back, recorded the way Jepsen records it (docs/chaos.md "History format"). The
 * checker proves invariants from this record alone plus the final state read through
 * the public API, so the record must say exactly what each client knew, when.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * `invoke`: the client is about to send; `ok`: a definite success; `fail`: a definite
 * failure (the operation certainly did not take effect); `info`: the outcome is unknown
 * (timeout, connection reset, a 5xx that may have happened after the write). The nemesis
 * writes only `info` ops: they mark faults, not outcomes.
 */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** One line of the history. */
export interface Op {
  /** Position in the history, 0-based, in the order the recorder saw the ops. */
  index: number;
  /** Who did it: a client (`c1`, `c2`…), `admin`, or `nemesis`. One op at a time per process. */
  process: string;
  type: OpType;
  /** The operation: `submit`, `status`, `results`, `close`, or a nemesis fault (`start-partition`…). */
  f: string;
  value?: unknown;
  /** Milliseconds since the run started, monotonic (never jumps with the wall clock). */
  time: number;
  /** Date.now() when recorded: what server timestamps (finalizedAt) are compared with. */
  wall: number;
  /** Why a `fail` or `info` ended so (`409 already_voted`, `timeout`, `network ECONNRESET`). */
  error?: string;
}

/** What a client `submit` carries (invoke value; the `ok` value adds voteId, receipt). */
export interface SubmitValue {
  electionId: string;
  voterId: string;
  optionId: string;
  idempotencyKey: string;
  voteId?: string;
  receipt?: string;
  /** True for a deliberate second vote with a fresh key: the answer must be `409 already_voted`. */
  revote?: boolean;
}

/** What a `status` read carries. */
export interface StatusValue {
  electionId: string;
  voteId: string;
  voterId?: string;
  status?: 'pending' | 'finalized' | 'rejected';
  reason?: string;
}

/** What a `results` read carries. */
export interface ResultsValue {
  electionId: string;
  totals?: Record<string, number>;
  finalized?: number;
  pending?: number;
  rejected?: number;
  final?: boolean;
  /** Read with an admin token: a fresh sum (a voter's may be up to 1 s old, API.md). */
  fresh?: boolean;
}

/** What a `close` carries. */
export interface CloseValue {
  electionId: string;
}

/**
 * Records ops in order, with times from one monotonic origin. Single-threaded Node
 * makes every call atomic, so indexes are a total order of what the clients observed.
 */
export class HistoryRecorder {
  private readonly list: Op[] = [];
  private readonly origin: number;

  /** `startMonotonic`: a `performance.now()` taken at run start (default: now). */
  constructor(startMonotonic: number = performance.now()) {
    this.origin = startMonotonic;
  }

  private add(o: Omit<Op, 'index' | 'time' | 'wall'>): Op {
    const op: Op = {
      index: this.list.length,
      ...o,
      time: Math.round((performance.now() - this.origin) * 1000) / 1000,
      wall: Date.now(),
    };
    if (op.value === undefined) delete op.value;
    if (op.error === undefined) delete op.error;
    this.list.push(op);
    return op;
  }

  /** The client is about to send `f` with `value`. */
  invoke(process: string, f: string, value?: unknown): Op {
    return this.add({ process, type: 'invoke', f, value });
  }

  /** What came back for `invokeOp`: `value` defaults to the invoke's. */
  complete(invokeOp: Op, type: Exclude<OpType, 'invoke'>, value?: unknown, error?: string): Op {
    if (invokeOp.type !== 'invoke') throw new Error(`op ${invokeOp.index} is not an invoke`);
    return this.add({
      process: invokeOp.process,
      type,
      f: invokeOp.f,
      value: value ?? invokeOp.value,
      ...(error === undefined ? {} : { error }),
    });
  }

  /** A fault the nemesis started or ended (`start-partition`, `kill`, `resume`…). */
  nemesis(f: string, value?: unknown): Op {
    return this.add({ process: 'nemesis', type: 'info', f, value });
  }

  /** The ops so far (a copy of the list; the ops themselves are shared). */
  ops(): Op[] {
    return [...this.list];
  }

  /** One JSON object per line: appendable, greppable, and readable by {@link readHistory}. */
  writeNdjson(path: string): void {
    writeFileSync(path, this.list.map((o) => JSON.stringify(o)).join('\n') + (this.list.length ? '\n' : ''));
  }
}

/** Reads a history written by {@link HistoryRecorder.writeNdjson}; names the bad line if one is. */
export function readHistory(path: string): Op[] {
  const ops: Op[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let o: Op;
    try {
      o = JSON.parse(line) as Op;
    } catch (err) {
      throw new Error(`${path}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    if (
      typeof o.index !== 'number' ||
      typeof o.process !== 'string' ||
      typeof o.f !== 'string' ||
      typeof o.time !== 'number' ||
      !['invoke', 'ok', 'fail', 'info'].includes(o.type)
    ) {
      throw new Error(`${path}:${i + 1}: not a history op (index, process, type, f, time)`);
    }
    ops.push(o);
  });
  return ops;
}
