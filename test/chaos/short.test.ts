import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport } from '../../chaos/checker';
import { hostsUnavailableReason, listLinks, listNamespaces } from '../../chaos/hosts';
import { type ChaosRunResult, runChaos } from '../../chaos/run';

/**
 * The short chaos run of `npm test`: the stack on simulated hosts (network namespaces),
 * about a minute of workload while the nemesis partitions, kills and pauses, then the
 * checker over the recorded history. It must find every invariant holding (nothing
 * acknowledged lost, nothing counted twice) and leave no namespace, link or process
 * behind. The long run is `npm run chaos`. Needs root and `ip netns`: skipped with the
 * reason printed otherwise.
 */
const why = hostsUnavailableReason();
if (why) process.stdout.write(`[chaos short] SKIPPED: ${why}\n`);
const suite = why ? describe.skip : describe;

suite('short chaos run (partition, kill, pause)', () => {
  let r: ChaosRunResult;
  beforeAll(async () => {
    r = await runChaos(
      {
        durationS: 70,
        seed: 20261202,
        faults: ['partition', 'kill', 'pause'],
        clients: 4,
        elections: 3,
        voters: 300,
        outDir: mkdtempSync(join(tmpdir(), 'qv-chaos-')),
        progressMs: 0,
      },
      { log: (m) => process.env['TEST_VERBOSE'] === '1' && process.stdout.write(`${m}\n`) },
    );
    process.stdout.write(`\n[chaos short]\n${r.summary}\n`);
  }, 420_000);

  test('faults of every chosen class were injected while votes were acknowledged', () => {
    expect(new Set(r.faults.map((f) => f.cls)).size).toBeGreaterThanOrEqual(2);
    expect(r.faults.length).toBeGreaterThanOrEqual(3);
    expect(r.report.counts.acknowledged).toBeGreaterThan(50);
  });

  test('the checker finds every invariant holding: nothing acknowledged lost, nothing counted twice', () => {
    if (!r.report.valid) throw new Error(`${formatReport(r.report)}\nrun folder: ${r.runDir}`);
    expect(r.report.counts.acknowledgedLost).toBe(0);
    expect(r.report.counts.doubleCounted).toBe(0);
    expect(r.report.counts.leaderConflicts).toBe(0);
  });

  test('nothing is left behind: no namespace, no link, no process of the run', () => {
    expect(listNamespaces()).toEqual([]);
    expect(listLinks()).toEqual([]);
    // Every Redis node of the run had the run folder on its command line.
    const left = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(r.runDir);
        } catch {
          return false;
        }
      });
    expect(left).toEqual([]);
  });
});
