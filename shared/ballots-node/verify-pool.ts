import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Ballot, BallotVerdict, ElectionKeys } from '../ballots';

/**
 * Ballot verification off the event loop (issue 14 item 5): a pool of worker threads,
 * each verifying batches of ballots (docs/election-record.md A4; one multi-scalar
 * multiplication per batch, per-ballot checks to name the culprit when it fails). It
 * checks what needs no state — decoding, the roll key when given, tracker, signature,
 * every proof; the caller applies "one counted ballot per key", which depends on its
 * state. A worker that dies (crash, out of memory, terminated) is replaced and its
 * batches are verified again on the new one; a batch whose worker died `maxAttempts`
 * times is refused (the promise rejects), never answered without a verdict.
 */
export interface VerifyPoolOptions {
  /** Worker threads (one per core the validator may use). */
  size: number;
  /** Group backend; docs/benchmarks.md measured libsodium faster in Node. */
  backend?: 'libsodium' | 'noble';
  /** Ballots per combined equation and per message to a worker (default 50). */
  batchSize?: number;
  /**
   * Nice value of the worker threads (Linux: per thread; default 10): the coordinator's
   * event loop (heartbeats, leases, clock sync) runs at the process's own priority and
   * gets a core first when verification and it compete. 0 = the same priority.
   */
  nice?: number;
  /** How often one batch may lose its worker before it is refused (default 3). */
  maxAttempts?: number;
  /**
   * The worker entry: `verify-worker.js` next to this file when bundled (dist/), else
   * `verify-worker.ts` (run through tsx). Tests pass their own.
   */
  workerFile?: string;
}

/** One ballot as a validator has it: the vote log's text and the voter's roll key. */
export interface RecordedBallot {
  /** The ballot's JSON as recorded (parsed in the worker: `malformed` if it is not JSON). */
  text: string;
  /** The voter's key on the roll (hex); null when the voter has none (`not_on_roll`). */
  rollKey: string | null;
}

/** The pool's API. */
export interface VerifyPool {
  /** Verdicts for `ballots` of one election, in order (roll and duplicates not checked). */
  verify(keys: ElectionKeys, ballots: Ballot[]): Promise<BallotVerdict[]>;
  /** Verdicts for recorded ballots of one election, in order, the roll key checked. */
  verifyRecorded(keys: ElectionKeys, ballots: RecordedBallot[]): Promise<BallotVerdict[]>;
  /** The live worker threads (diagnostics, and tests that crash one). */
  threads(): readonly Worker[];
  /** Stops every worker (pending requests are rejected). */
  close(): Promise<void>;
}

/** What a worker is sent: one batch. */
export interface VerifyRequest {
  id: number;
  keys: ElectionKeys;
  ballots?: Ballot[];
  recorded?: RecordedBallot[];
}

interface Job {
  id: number;
  request: VerifyRequest;
  size: number;
  attempts: number;
  resolve: (v: BallotVerdict[]) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Batches sent to this worker and not answered yet. */
  inflight: Map<number, Job>;
  /** Ballots in those batches (the dispatch sends to the least loaded worker). */
  load: number;
}

function defaultWorkerFile(): string {
  const bundled = join(__dirname, 'verify-worker.js');
  return existsSync(bundled) ? bundled : join(__dirname, 'verify-worker.ts');
}

function startWorker(file: string, workerData: unknown): Worker {
  if (file.endsWith('.ts')) {
    // Workers do not inherit `--import tsx`; register it, then load the TypeScript entry.
    return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(file)});`, {
      eval: true,
      workerData,
    });
  }
  return new Worker(file, { workerData });
}

/** Starts `size` verification workers. */
export function createVerifyPool(opts: VerifyPoolOptions): VerifyPool {
  const file = opts.workerFile ?? defaultWorkerFile();
  const batchSize = Math.max(1, opts.batchSize ?? 50);
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
  const workerData = { backend: opts.backend ?? 'libsodium', batchSize, nice: opts.nice ?? 10 };
  let nextId = 1;
  let closed = false;

  const send = (slot: Slot, job: Job) => {
    slot.inflight.set(job.id, job);
    slot.load += job.size;
    // Messages posted before the worker listens are queued until it does.
    slot.worker.postMessage(job.request);
  };

  const spawn = (slot: Slot): void => {
    const worker = startWorker(file, workerData);
    slot.worker = worker;
    worker.on('message', (msg: { id?: number; verdicts?: BallotVerdict[]; error?: string }) => {
      if (msg.id === undefined) return; // the ready signal
      const job = slot.inflight.get(msg.id);
      if (!job) return;
      slot.inflight.delete(msg.id);
      slot.load -= job.size;
      if (msg.error !== undefined) job.reject(new Error(`ballot verification failed: ${msg.error}`));
      else job.resolve(msg.verdicts!);
    });
    // 'exit' follows 'error' too; an error alone needs no handling of its own.
    worker.on('error', () => {});
    worker.on('exit', () => {
      if (closed || slot.worker !== worker) return;
      // The worker died with batches unanswered: a fresh worker verifies them again.
      const orphans = [...slot.inflight.values()];
      slot.inflight.clear();
      slot.load = 0;
      spawn(slot);
      for (const job of orphans) {
        job.attempts++;
        if (job.attempts >= maxAttempts) {
          job.reject(new Error(`ballot verification worker died ${job.attempts} times on one batch`));
        } else {
          send(slot, job);
        }
      }
    });
  };

  const slots: Slot[] = Array.from({ length: Math.max(1, opts.size) }, () => {
    const slot = { inflight: new Map(), load: 0 } as unknown as Slot;
    spawn(slot);
    return slot;
  });

  const run = (request: Omit<VerifyRequest, 'id'>, size: number): Promise<BallotVerdict[]> => {
    if (closed) return Promise.reject(new Error('verification pool closed'));
    return new Promise((resolve, reject) => {
      const job: Job = { id: nextId++, request: { ...request, id: 0 }, size, attempts: 0, resolve, reject };
      job.request.id = job.id;
      let best = slots[0]!;
      for (const s of slots) if (s.load < best.load) best = s;
      send(best, job);
    });
  };

  /** Cuts `items` into batches, verifies them on the least loaded workers, in order. */
  const inBatches = async <T>(
    items: T[],
    request: (part: T[]) => Omit<VerifyRequest, 'id'>,
  ): Promise<BallotVerdict[]> => {
    const parts: Promise<BallotVerdict[]>[] = [];
    for (let i = 0; i < items.length; i += batchSize) {
      const part = items.slice(i, i + batchSize);
      parts.push(run(request(part), part.length));
    }
    return (await Promise.all(parts)).flat();
  };

  return {
    verify: (keys, ballots) => inBatches(ballots, (part) => ({ keys, ballots: part })),
    verifyRecorded: (keys, recorded) => inBatches(recorded, (part) => ({ keys, recorded: part })),
    threads: () => slots.map((s) => s.worker),
    async close() {
      closed = true;
      await Promise.all(
        slots.map(async (s) => {
          for (const job of s.inflight.values()) job.reject(new Error('verification pool closed'));
          s.inflight.clear();
          await s.worker.terminate();
        }),
      );
    },
  };
}
