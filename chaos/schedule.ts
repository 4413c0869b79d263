import { intIn, seededRng } from './random';

/**
 * The nemesis schedule, drawn from a seed alone: which faults, in which order, how
 * long each lasts, the pause after it, and a number that picks among the candidate
 * targets when the fault starts. The same seed and fault classes give the same
 * schedule, so a failing run can be replayed (who leads at that moment is up to the
 * cluster, hence targets are picked by role + this number, not fixed up front).
 */
export const FAULT_CLASSES = ['partition', 'kill', 'pause', 'clock', 'latency', 'close'] as const;
export type FaultClass = (typeof FAULT_CLASSES)[number];

/** Every fault kind the nemesis knows, by class, with its duration range in ms. */
export const FAULT_KINDS = {
  'partition-isolate': { cls: 'partition', ms: [6000, 12000] },
  'partition-leader-redis': { cls: 'partition', ms: [6000, 12000] },
  'partition-split': { cls: 'partition', ms: [6000, 12000] },
  'partition-redis-replica': { cls: 'partition', ms: [6000, 12000] },
  'partition-bridge': { cls: 'partition', ms: [6000, 12000] },
  'kill-coordinator': { cls: 'kill', ms: [3000, 8000] },
  'kill-leader': { cls: 'kill', ms: [3000, 8000] },
  'kill-owner': { cls: 'kill', ms: [3000, 8000] },
  'kill-redis-master': { cls: 'kill', ms: [6000, 10000] },
  // Far longer than the 500 ms lease: the paused node must be fenced when it wakes.
  'pause-leader': { cls: 'pause', ms: [3000, 8000] },
  'pause-owner': { cls: 'pause', ms: [3000, 8000] },
  'clock-skew': { cls: 'clock', ms: [8000, 15000] },
  'clock-skew-leader': { cls: 'clock', ms: [8000, 15000] },
  'latency-redis-master': { cls: 'latency', ms: [8000, 15000] },
  'latency-coordinator': { cls: 'latency', ms: [8000, 15000] },
  'close-during-partition': { cls: 'close', ms: [6000, 10000] },
  'close-during-failover': { cls: 'close', ms: [5000, 8000] },
} as const satisfies Record<string, { cls: FaultClass; ms: readonly [number, number] }>;
export type FaultKind = keyof typeof FAULT_KINDS;

export interface ScheduledFault {
  kind: FaultKind;
  durationMs: number;
  /** Quiet time after the fault healed and the cluster recovered. */
  gapMs: number;
  /** In [0, 1): picks the target among the candidates when the fault starts. */
  choice: number;
}

/** Parses `--faults partition,kill,...` (empty: every class). */
export function parseFaultClasses(text: string | undefined): FaultClass[] {
  if (!text) return [...FAULT_CLASSES];
  const out: FaultClass[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(FAULT_CLASSES as readonly string[]).includes(part))
      throw new Error(`unknown fault class "${part}" (known: ${FAULT_CLASSES.join(', ')})`);
    out.push(part as FaultClass);
  }
  if (out.length === 0) throw new Error('--faults names no fault class');
  return out;
}

/**
 * `count` faults of the given classes. Kinds come in rounds: each round is every
 * enabled kind once, in a seeded order, so a run long enough for one round has
 * injected every kind. `maxCloses` bounds the election-closing faults (an election can
 * be closed once).
 */
export function makeSchedule(
  seed: number,
  classes: readonly FaultClass[],
  count: number,
  maxCloses = Number.POSITIVE_INFINITY,
): ScheduledFault[] {
  const rand = seededRng(seed);
  const kinds = (Object.keys(FAULT_KINDS) as FaultKind[]).filter((k) => classes.includes(FAULT_KINDS[k].cls));
  const out: ScheduledFault[] = [];
  let closes = 0;
  while (out.length < count && kinds.length > 0) {
    const round = [...kinds];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    let added = 0;
    for (const kind of round) {
      if (out.length >= count) break;
      const [lo, hi] = FAULT_KINDS[kind].ms;
      const f: ScheduledFault = {
        kind,
        durationMs: intIn(rand, lo, hi),
        gapMs: intIn(rand, 2000, 5000),
        choice: rand(),
      };
      if (FAULT_KINDS[kind].cls === 'close' && closes >= maxCloses) continue;
      if (FAULT_KINDS[kind].cls === 'close') closes++;
      out.push(f);
      added++;
    }
    if (added === 0) break;
  }
  return out;
}
