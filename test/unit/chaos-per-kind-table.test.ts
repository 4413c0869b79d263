import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckReport } from '../../chaos/checker/types';
import type { FaultWindow } from '../../chaos/nemesis';
import { perKindTable } from '../../chaos/run';

/**
 * The per-fault-kind table of a run's summary, computed from the published 30-minute
 * run (docs/chaos-runs): the figures docs/chaos.md quotes come out of the code.
 */
const dir = join(__dirname, '../../docs/chaos-runs/2026-12-02-30min-seed16');
const faults = JSON.parse(readFileSync(join(dir, 'faults.json'), 'utf8')) as FaultWindow[];

describe('perKindTable', () => {
  test('one row per kind, worst stops and slowest recovery, faults without a seen recovery counted', () => {
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as CheckReport;
    const lines = perKindTable(report, faults);
    expect(lines).toHaveLength(2 + 17);
    expect(lines).toContain('| kill-owner | 5 | 2089 | 0.2 % | 20.4 | 19.7 | 30.3 (1 not seen) |');
    expect(lines).toContain('| kill-redis-master | 5 | 199 | 33.7 % | 33.7 | 10.1 | 20.4 |');
    expect(lines).toContain('| close-during-partition | 1 | 1546 | 0.0 % | 0.1 | 0.1 | 0.0 |');
  });

  test('a fault the checker has no window for still counts as injected', () => {
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as CheckReport;
    const lines = perKindTable({ ...report, windows: [] }, faults.slice(0, 1));
    expect(lines[2]).toBe('| pause-leader | 1 | 0 | 0.0 % | 0.0 | 0.0 | 0.2 |');
  });
});
