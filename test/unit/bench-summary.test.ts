import { GOALS, type Figure, summaryTable } from '../../bench/summary';

/**
 * The `npm run bench` summary table: every goal of issue 18 is a row whether or not a
 * program measured it, a program's registered figure replaces the one derived from a
 * result file, and a figure from an earlier run says so.
 */
describe('bench summary table', () => {
  const fig = (id: string, value: string, met: boolean | null, goal = 'g'): Figure => ({
    id,
    figure: `figure ${id}`,
    value,
    goal,
    met,
  });

  it('lists every goal in order, unmeasured ones as not measured / NOT MET', () => {
    const lines = summaryTable([], []);
    expect(lines.slice(2)).toHaveLength(GOALS.length);
    GOALS.forEach((g, i) => {
      const line = lines[i + 2]!;
      expect(line).toContain(g.figure);
      expect(line).toContain('not measured');
      expect(line.endsWith(g.goal === 'recorded' ? '| missing |' : '| NOT MET |')).toBe(true);
    });
  });

  it('puts a registered figure in its goal place, over a derived one with the same id', () => {
    const lines = summaryTable(
      [fig('mutex', 'registered 2/s', true)],
      [fig('mutex', 'derived 1/s', false), fig('pipeline.throughput', '9,000/s', false)],
    );
    const mutexAt = GOALS.findIndex((g) => g.id === 'mutex') + 2;
    expect(lines[mutexAt]).toContain('registered 2/s');
    expect(lines[mutexAt]!.endsWith('| met |')).toBe(true);
    expect(lines.join('\n')).not.toContain('derived 1/s');
    expect(lines[2]).toContain('9,000/s');
    expect(lines[2]!.endsWith('| NOT MET |')).toBe(true);
  });

  it('keeps every registered figure of one id, then the figures no goal names, and marks stale ones', () => {
    const lines = summaryTable(
      [
        fig('cost.cpu-redis', '1.2 ms', null),
        fig('cost.cpu-redis', '0.9 ms', null),
        { ...fig('roll.import', '50,000 rows/s', true, '>= 10,000/s'), stale: '2026-12-01T10:00' },
      ],
      [],
    );
    const text = lines.join('\n');
    expect(text).toContain('1.2 ms');
    expect(text).toContain('0.9 ms');
    const last = lines[lines.length - 1]!;
    expect(last).toContain('50,000 rows/s (run 2026-12-01T10:00)');
    expect(last.endsWith('| met |')).toBe(true);
  });
});
