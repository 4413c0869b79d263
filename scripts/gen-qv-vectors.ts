/**
 * Writes the committed qv/v1 test vectors (test/fixtures/qv-v1/). Deterministic: the
 * same code writes the same bytes, and test/unit/ballots-vectors.test.ts checks it.
 *   node --import tsx scripts/gen-qv-vectors.ts
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { electionVector, groupVectors, hashVectors } from '../test/helpers/qv-vectors';

const dir = join(__dirname, '..', 'test', 'fixtures', 'qv-v1');
const write = (name: string, value: unknown) =>
  writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
write('hash-vectors.json', hashVectors());
write('group-vectors.json', groupVectors());
const e = electionVector();
write('election-2of3-record.json', e.record);
write('election-2of3-secrets.json', {
  note: 'TEST VECTORS ONLY: every secret of the record next to it, generated from a public seed.',
  trustees: e.trusteeSecrets,
  voterKeys: e.voterKeys,
  openings: e.openings,
});
// The repository's formatter decides the committed layout (the content is what the tests compare).
spawnSync('npx', ['biome', 'format', '--write', dir], { stdio: 'inherit' });
console.log(`wrote ${dir}`);
