/**
 * The one summary table of `npm run bench`: every figure next to its goal.
 *
 * A benchmark program registers its figures with `recordFigures` (one call per program
 * run, at its end); `npm run bench` (bench/run-all.ts) prints them all in one table after
 * the last program, in the order of issue 18's goals table (`GOALS` below), then every
 * other registered figure. A goal of `GOALS` that no program registered in this run is
 * printed as "not measured", so a missing figure cannot pass unnoticed.
 *
 *   import { recordFigures } from './summary';
 *   recordFigures('fanout', [
 *     {
 *       id: 'fanout.delivery-p99',                  // a GOALS id puts it in its place
 *       figure: 'WebSocket fan-out delivery p99, 1,000 subscribers, 100 votes/s',
 *       value: `${p99.toFixed(0)} ms`,
 *       goal: 'p99 <= 1,500 ms',
 *       met: p99 <= 1500,                           // null: recorded only, no goal
 *     },
 *   ]);
 *
 * Figures land in bench/results/figures/<source>.json (the same source replaces its
 * earlier file: use one source name per program run, e.g. `pipeline-c5-m3`). Figures of
 * an earlier run (a subset run such as `npm run bench -- memory`) are printed with their
 * date instead of silently mixed with fresh ones.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../local/stack';

/** One row of the summary table. */
export interface Figure {
  /** Stable key; an id listed in `GOALS` puts the row in that goal's place. */
  id: string;
  /** What is measured, with its conditions (load, counts), as the table shows it. */
  figure: string;
  /** The measured value with its unit, formatted for reading. */
  value: string;
  /** What the value is compared with in the same run (e.g. `redis-semaphore 41,000/s`). */
  anchor?: string;
  /** value / anchor, when the goal is a ratio. */
  ratio?: number;
  /** The goal as a sentence (e.g. `>= 0.8x`); `recorded` when there is none. */
  goal: string;
  /** Whether the goal is met; null for a figure that is only recorded. */
  met: boolean | null;
}

/** What a figures file holds: who wrote it, when, under what load. */
interface FiguresFile {
  source: string;
  at: string;
  load: number[];
  figures: Figure[];
}

/**
 * Issue 18's goals table (and the figures it asks for), in its order: the rows every
 * `npm run bench` must show, measured or not.
 */
export const GOALS: { id: string; figure: string; goal: string }[] = [
  {
    id: 'pipeline.throughput',
    figure: 'finalized votes/s, 3 coordinators, majority 2',
    goal: '>= 1.0x the 3-op atomic script, >= 15,000/s quiet',
  },
  {
    id: 'pipeline.latency-p99',
    figure: 'accepted -> finalized p99 at 5,000/s offered',
    goal: 'p99 <= 100 ms',
  },
  { id: 'scaling.c5-vs-c3', figure: 'scaling: 5 coordinators vs 3', goal: '5 >= 0.95x 3' },
  {
    id: 'scaling.cpu-per-coordinator',
    figure: 'CPU-ms per finalized vote per coordinator, 3 -> 5 coordinators',
    goal: 'falls as 3/N beyond 3',
  },
  {
    id: 'http.submit',
    figure: 'HTTP vote submit through serverless-offline',
    goal: '>= 0.8x trivial handler',
  },
  { id: 'mutex', figure: 'mutex acquire+release with fencing', goal: '>= 1.0x redis-semaphore' },
  {
    id: 'fanout.delivery-p99',
    figure: 'WebSocket fan-out delivery p99, 1,000 subscribers, 100 votes/s',
    goal: 'p99 <= 1,500 ms',
  },
  { id: 'fanout.updates', figure: 'tally updates/s per subscriber', goal: '>= 1/s' },
  { id: 'fanout.intake', figure: 'intake while fanning out', goal: 'unaffected' },
  { id: 'coldstart.p99', figure: 'cold start: first 1,000 submissions after start, p99', goal: 'recorded' },
  { id: 'memory.per-vote', figure: 'Redis memory per finalized vote', goal: 'recorded' },
  { id: 'memory.growth', figure: 'Redis memory growth of one election', goal: 'linear' },
  { id: 'memory.per-idle-election', figure: 'Redis memory per idle election', goal: 'recorded' },
  { id: 'memory.10m', figure: 'Redis memory for 10 million votes (extrapolated)', goal: 'recorded' },
  { id: 'cost.commands-per-vote', figure: 'Redis commands per finalized vote', goal: 'recorded' },
  { id: 'cost.cpu-coordinators', figure: 'CPU-ms per finalized vote: coordinators', goal: 'recorded' },
  { id: 'cost.cpu-functions', figure: 'CPU-ms per finalized vote: functions', goal: 'recorded' },
  { id: 'cost.cpu-redis', figure: 'CPU-ms per finalized vote: redis-server', goal: 'recorded' },
];

const figuresDir = (): string => join(repoRoot, 'bench/results/figures');

/** Registers a program run's figures for the summary table (replaces that source's last ones). */
export function recordFigures(source: string, figures: Figure[]): void {
  mkdirSync(figuresDir(), { recursive: true });
  const file: FiguresFile = {
    source,
    at: new Date().toISOString(),
    load: loadavg().map((l) => +l.toFixed(2)),
    figures,
  };
  writeFileSync(join(figuresDir(), `${source}.json`), `${JSON.stringify(file, null, 2)}\n`);
}

/** Every registered figure, each marked with whether it is older than `since`. */
export function readFigures(since: number): (Figure & { stale?: string; source: string })[] {
  let names: string[] = [];
  try {
    names = readdirSync(figuresDir()).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: (Figure & { stale?: string; source: string })[] = [];
  for (const name of names.sort()) {
    let file: FiguresFile;
    try {
      file = JSON.parse(readFileSync(join(figuresDir(), name), 'utf8')) as FiguresFile;
    } catch {
      continue; // a file cut short by a killed run: its figures are not to be trusted
    }
    const at = Date.parse(file.at);
    for (const f of file.figures) {
      out.push({ ...f, source: file.source, ...(at < since ? { stale: file.at.slice(0, 16) } : {}) });
    }
  }
  return out;
}

/** Formats a number for the table: thousands separated, `digits` decimals, `-` if not finite. */
export function fmt(n: number | undefined, digits = 0): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * The table as markdown lines: `GOALS` in order (a registered figure with the same id,
 * else a derived one from `derived`, else "not measured"), then every other figure.
 * Registered figures win over derived ones with the same id.
 */
export function summaryTable(registered: (Figure & { stale?: string })[], derived: Figure[]): string[] {
  // Several registered figures may share an id (e.g. one per process kind): all are kept.
  const byId = new Map<string, (Figure & { stale?: string })[]>();
  for (const f of registered) byId.set(f.id, [...(byId.get(f.id) ?? []), f]);
  for (const f of derived) if (!byId.has(f.id)) byId.set(f.id, [f]);
  const rows: string[] = [];
  const row = (f: Figure & { stale?: string }): string => {
    const met = f.met === null ? '-' : f.met ? 'met' : 'NOT MET';
    const value = f.stale ? `${f.value} (run ${f.stale})` : f.value;
    const ratio = f.ratio === undefined ? '-' : fmt(f.ratio, f.ratio < 0.1 ? 3 : 2);
    return `| ${f.figure} | ${value} | ${f.anchor ?? '-'} | ${ratio} | ${f.goal} | ${met} |`;
  };
  const done = new Set<string>();
  for (const g of GOALS) {
    done.add(g.id);
    const list = byId.get(g.id);
    const missing = g.goal === 'recorded' ? 'missing' : 'NOT MET';
    if (!list?.length) rows.push(`| ${g.figure} | not measured | - | - | ${g.goal} | ${missing} |`);
    else for (const f of list) rows.push(row(f));
  }
  for (const [id, list] of byId) if (!done.has(id)) for (const f of list) rows.push(row(f));
  return ['| figure | value | anchor | ratio | goal | met |', '|---|---|---|---|---|---|', ...rows];
}
