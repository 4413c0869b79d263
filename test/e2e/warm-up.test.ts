import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { findFreePortRange } from '../../local/ports';
import type { ManagedProcess } from '../../local/processes';
import { repoRoot, startOffline } from '../../local/stack';
import { type WarmUpReport, functionKeys } from '../../local/warm-up';
import { testSeeds } from '../helpers/stack';

const yml = readFileSync(join(repoRoot, 'serverless.yml'), 'utf8');

describe('warming the functions at start (npm start)', () => {
  let offline: ManagedProcess | undefined;
  let report: WarmUpReport | undefined;
  let lines: string[] = [];

  beforeAll(async () => {
    const base = await findFreePortRange(3);
    offline = await startOffline({
      httpPort: base,
      wsPort: base + 1,
      lambdaPort: base + 2,
      redisSeeds: testSeeds(),
      env: { LOG_LEVEL: 'info' },
      onLine: (_name, line) => lines.push(line),
      warm: (r) => {
        report = r;
      },
    });
  }, 90_000);

  afterAll(async () => {
    await offline?.stop();
  });

  test('every function declared in serverless.yml is warmed', () => {
    const declared = Object.keys((load(yml) as { functions: Record<string, unknown> }).functions);
    expect(functionKeys(yml)).toEqual(declared);
    expect(report).toBeDefined();
    expect(Object.keys(report!.functions)).toEqual(declared);
  });

  test('each handler answered the warm-up itself, without failing and without doing any work', () => {
    const notWarm = Object.entries(report!.functions).filter(([, status]) => status !== 200);
    expect(notWarm).toEqual([]);
    // Nothing was authenticated, refused or delivered: no handler logged a request.
    const work = lines.filter((l) =>
      /"msg":"(request|broadcast refused|broadcast|connected|disconnected)"/.test(l),
    );
    expect(work).toEqual([]);
    lines = [];
  });
});
