import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory, faultWindows } from '../../chaos/checker';
import { longestStop } from '../../chaos/checker/availability';
import { pairOps } from '../../chaos/checker/pairs';
import { HistoryRecorder, readHistory } from '../../chaos/history';
import { renderReport } from '../../chaos/report-html';
import { HistoryBuilder, finalElection, finalState } from '../helpers/chaos-fixtures';

/** The history format, its pairing and fault windows, availability figures and the HTML report. */
describe('chaos history', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qv-chaos-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the recorder numbers ops in order, times them from its origin, and round-trips through NDJSON', () => {
    const rec = new HistoryRecorder(performance.now() - 1000);
    const inv = rec.invoke('c1', 'submit', {
      electionId: 'e',
      voterId: 'v',
      optionId: 'a',
      idempotencyKey: 'k',
    });
    const nem = rec.nemesis('start-partition', { targets: ['n1'] });
    const ok = rec.complete(inv, 'ok', { voteId: 'e.0.1-0' });
    const bad = rec.complete(rec.invoke('c2', 'status', { voteId: 'x' }), 'info', undefined, 'timeout');
    expect([inv.index, nem.index, ok.index, bad.index]).toEqual([0, 1, 2, 4]);
    expect(inv.time).toBeGreaterThanOrEqual(1000);
    expect(ok.time).toBeGreaterThanOrEqual(inv.time);
    expect(bad).toMatchObject({
      process: 'c2',
      type: 'info',
      f: 'status',
      value: { voteId: 'x' },
      error: 'timeout',
    });
    expect(nem).toMatchObject({ process: 'nemesis', type: 'info', f: 'start-partition' });
    expect(() => rec.complete(ok, 'ok')).toThrow('is not an invoke');
    const file = join(dir, 'h.ndjson');
    rec.writeNdjson(file);
    expect(readHistory(file)).toEqual(rec.ops());
  });

  test('readHistory names the line that is not an op', () => {
    const file = join(dir, 'bad.ndjson');
    writeFileSync(
      file,
      '{"index":0,"process":"c1","type":"invoke","f":"submit","time":1,"wall":1}\n{"oops":1}\n',
    );
    expect(() => readHistory(file)).toThrow(`${file}:2: not a history op`);
  });

  test('an invoke the run never completed counts as info; a process doing two ops at once is refused', () => {
    const h = new HistoryBuilder().op('c1', 'submit', {}, 0, 10, 'ok').invoke('c1', 'status', {}, 20);
    expect(pairOps(h.ops).map((p) => p.type)).toEqual(['ok', 'info']);
    h.invoke('c1', 'results', {}, 30);
    expect(() => pairOps(h.ops)).toThrow('process c1 invoked op 3 before op 2 completed');
  });

  test('fault windows pair start-X/stop-X, kill/restart and pause/resume by target; others are instants', () => {
    const h = new HistoryBuilder()
      .nemesis('kill', { node: 'n1' }, 1000)
      .nemesis('pause', { node: 'n2' }, 1500)
      .nemesis('restart', { node: 'n1' }, 3000)
      .nemesis('clock', { node: 'n3', offsetMs: 5000 }, 3500)
      .nemesis('start-partition', { targets: ['n1', 'n2'] }, 4000)
      .op('c1', 'submit', {}, 4100, 9000, 'ok');
    expect(faultWindows(h.ops).map((w) => [w.name, w.start, w.end])).toEqual([
      ['kill n1', 1000, 3000],
      ['pause n2', 1500, 9000],
      ['clock n3', 3500, 3500],
      ['partition n1|n2', 4000, 9000],
    ]);
  });

  test('a nemesis fault id pairs a start with its end even when the targets differ', () => {
    const h = new HistoryBuilder()
      .nemesis('start-partition', { id: 1, fault: 'leader-from-redis', targets: ['n1', 'r1'] }, 1000)
      .nemesis('start-partition', { id: 2, fault: 'bridge', targets: ['n2'] }, 1500)
      .nemesis('stop-partition', { id: 2, fault: 'bridge', targets: [] }, 2000)
      .nemesis('stop-partition', { id: 1, fault: 'leader-from-redis', targets: [] }, 3000);
    expect(faultWindows(h.ops).map((w) => [w.name, w.start, w.end])).toEqual([
      ['partition (leader-from-redis) n1|r1', 1000, 3000],
      ['partition (bridge) n2', 1500, 2000],
    ]);
  });

  test('longestStop measures the longest gap from the fault on, including one that outlasts it', () => {
    expect(longestStop([100, 200, 900, 1000], 150, 500, 1200)).toBe(700);
    expect(longestStop([100, 200], 150, 500, 1200)).toBe(1000);
    expect(longestStop([100, 160, 170, 180, 190, 2000], 150, 500, 2000)).toBe(1810);
  });

  test('availability per fault: intake and finalization stops', () => {
    const h = new HistoryBuilder();
    const s = (v: string, id: string) => ({
      electionId: 'e',
      voterId: v,
      optionId: 'a',
      idempotencyKey: v,
      voteId: id,
    });
    h.op('c1', 'submit', s('v1', 'e.0.1-0'), 0, 100, 'ok');
    h.nemesis('start-partition', { targets: ['n1'] }, 1000);
    h.op('c1', 'submit', s('v2', ''), 1100, 3100, 'info', undefined, 'timeout');
    h.op('c1', 'submit', s('v2', 'e.0.2-0'), 3200, 4000, 'ok');
    h.nemesis('stop-partition', { targets: ['n1'] }, 4500);
    h.op('c1', 'submit', s('v3', 'e.0.3-0'), 4600, 4700, 'ok');
    const final = finalState(
      finalElection('e', [
        { voteId: 'e.0.1-0', option: 'a', at: 200 },
        { voteId: 'e.0.2-0', option: 'a', at: 6000 },
        { voteId: 'e.0.3-0', option: 'a', at: 6100 },
      ]),
    );
    const r = checkHistory({ history: h.ops, final });
    expect(r.valid).toBe(true);
    expect(r.availability.windows).toEqual([
      {
        window: 'partition n1 1.0–4.5 s',
        start: 1000,
        end: 4500,
        ops: 2,
        failedShare: 0.5,
        intakeStopMs: 3000,
        finalizationStopMs: 5000,
      },
    ]);
    expect(r.availability.byF['submit']).toEqual({ ok: 3, failed: 0, refused: 0, unknown: 1 });
  });

  test('the HTML report is one self-contained file with the timeline and the verdicts', () => {
    const h = new HistoryBuilder();
    const s = { electionId: 'e', voterId: 'v1', optionId: 'a', idempotencyKey: 'k', voteId: 'e.0.1-0' };
    h.nemesis('start-partition', { targets: ['n<1>'] }, 10);
    h.op('c1', 'submit', s, 0, 100, 'ok');
    h.nemesis('stop-partition', { targets: ['n<1>'] }, 500);
    const final = finalState(finalElection('e', []));
    const report = checkHistory({ history: h.ops, final });
    expect(report.valid).toBe(false); // the acknowledged vote is not in the (empty) log
    const html = renderReport({ history: h.ops, report, title: 'Chaos <run>', seed: 7 });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('Chaos &lt;run&gt;');
    expect(html).toContain('partition n&lt;1&gt;');
    expect(html).toContain('acknowledged-not-lost');
    expect(html).toContain('Invariants broken');
    expect(html).not.toMatch(/<script|src=|href=/);
    expect(html).not.toContain('finalized /s');
    // With the final state, the timeline also shows finalizations (audit finalizedAt).
    expect(renderReport({ history: h.ops, report, title: 't', seed: 7, final })).toContain('finalized /s');
  });
});
