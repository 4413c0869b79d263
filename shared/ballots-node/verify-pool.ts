import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Ballot, BallotVerdict, ElectionKeys } from '../ballots';

/**
 * Ballot verification off the event loop (issue 14 item 5): a pool of worker threads,
 * each verifying its share of a request in batches (docs/election-record.md A4). It
 * checks what needs no state — decoding, tracker, signature, every proof; the caller
 * applies the roll and "one counted ballot per key", which depend on its state.
 */
export interface VerifyPoolOptions {
  /** Worker threads (one per core the validator may use). */
  size: number;
  /** Group backend; docs/benchmarks.md measured libsodium faster in Node. */
  backend?: 'libsodium' | 'noble';
  /** Ballots per combined equation (default 50). */
  batchSize?: number;
  /**
   * The worker entry: `verify-worker.ts` next to this file by default (run through tsx);
   * a bundled build passes its compiled `verify-worker.js`.
   */
  workerFile?: string;
}

/** The pool's API. */
export interface VerifyPool {
  /** Verdicts for `ballots` of one election, in order (roll and duplicates not checked). */
  verify(keys: ElectionKeys, ballots: Ballot[]): Promise<BallotVerdict[]>;
  /** Stops every worker (pending requests are rejected). */
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, { resolve: (v: BallotVerdict[]) => void; reject: (e: Error) => void }>;
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
  const file = opts.workerFile ?? join(__dirname, 'verify-worker.ts');
  const workerData = { backend: opts.backend ?? 'libsodium', batchSize: opts.batchSize ?? 50 };
  let nextId = 1;
  const slots: Slot[] = Array.from({ length: Math.max(1, opts.size) }, () => {
    const worker = startWorker(file, workerData);
    const pending: Slot['pending'] = new Map();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    worker.on('message', (msg: { id?: number; verdicts?: BallotVerdict[]; error?: string }) => {
      if (msg.id === undefined) return;
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error !== undefined) p?.reject(new Error(msg.error));
      else p?.resolve(msg.verdicts!);
    });
    worker.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    return { worker, ready, pending };
  });

  const ask = async (slot: Slot, keys: ElectionKeys, ballots: Ballot[]): Promise<BallotVerdict[]> => {
    await slot.ready;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, keys, ballots });
    });
  };

  return {
    async verify(keys, ballots) {
      // Contiguous shares, one per worker, so the verdicts come back in order.
      const per = Math.ceil(ballots.length / slots.length);
      const parts = await Promise.all(
        slots.map((slot, i) => {
          const chunk = ballots.slice(i * per, (i + 1) * per);
          return chunk.length === 0 ? Promise.resolve([]) : ask(slot, keys, chunk);
        }),
      );
      return parts.flat();
    },
    async close() {
      await Promise.all(
        slots.map(async (s) => {
          for (const p of s.pending.values()) p.reject(new Error('verification pool closed'));
          s.pending.clear();
          await s.worker.terminate();
        }),
      );
    },
  };
}
