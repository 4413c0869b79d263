import { type FaultClass, parseFaultClasses } from './schedule';

/**
 * The options of `npm run chaos`, parsed and checked in one place (the short test in
 * `npm test` builds the same object directly).
 */
export interface ChaosRunOptions {
  durationS: number;
  seed: number;
  faults: FaultClass[];
  clients: number;
  elections: number;
  voters: number;
  /** Parent folder of the run folder. */
  outDir: string;
  /** Print a progress line this often (0: quiet). */
  progressMs: number;
}

export const USAGE =
  'usage: npm run chaos -- [--duration SECONDS] [--seed N] [--faults partition,kill,pause,clock,latency,close]\n' +
  '                        [--clients N] [--elections N] [--voters N] [--out DIR]';

/** Parses argv; throws with a message that names the bad flag. */
export function parseRunArgs(argv: readonly string[], defaults: { outDir: string }): ChaosRunOptions {
  const o: ChaosRunOptions = {
    durationS: 300,
    seed: Math.floor(Math.random() * 2 ** 31),
    faults: parseFaultClasses(undefined),
    clients: 8,
    elections: 4,
    voters: 0,
    outDir: defaults.outDir,
    progressMs: 2000,
  };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min)
      throw new Error(`${flag} needs an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    switch (flag) {
      case '--duration':
        o.durationS = int(flag, v, 10);
        break;
      case '--seed':
        o.seed = int(flag, v, 0);
        break;
      case '--faults':
        o.faults = parseFaultClasses(v ?? '');
        break;
      case '--clients':
        o.clients = int(flag, v, 1);
        break;
      case '--elections':
        o.elections = int(flag, v, 2);
        break;
      case '--voters':
        o.voters = int(flag, v, 1);
        break;
      case '--out':
        if (!v) throw new Error('--out needs a folder');
        o.outDir = v;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
    i++;
  }
  // Enough voters that the clients never run out (each votes once per election).
  if (o.voters === 0) o.voters = Math.max(200, Math.ceil((o.durationS * 12) / o.elections));
  return o;
}
