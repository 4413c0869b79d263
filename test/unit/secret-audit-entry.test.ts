import { createHash } from 'node:crypto';
import { entryInput } from '../../shared/votes/audit-encoding';
import { type SecretAuditEntryContent, secretEntryInput } from '../../shared/secret/audit-entry';
import { secretEntryHash } from '../../coordinator/pipeline/secret-batch';

/**
 * The audit entry of a secret ballot (docs/architecture.md "Audit entries of secret
 * ballots"), pinned by a vector computed independently (Python hashlib over the spec's
 * parts); open ballots keep their own tag and bytes (test/unit/audit-encoding.test.ts).
 */
const content: SecretAuditEntryContent = {
  ballotId: '00112233445566778899aabbccddeeff',
  tracker: 'aa'.repeat(32),
  publicKey: 'bb'.repeat(32),
  signature: 'cc'.repeat(64),
  outcome: 'counted',
  reason: '',
  tally: [{ alpha: '11'.repeat(32), beta: '22'.repeat(32) }],
};
const PREV = 'dd'.repeat(32);
const VECTOR = '936e3ffb5db27b422e3b77b5367824242db0ab180616a9d7a5478c7dcaf213d6';

test('the secret entry hash matches the independently computed vector', () => {
  expect(secretEntryHash(PREV, 'elvector', 3, 7, content)).toBe(VECTOR);
  const input = secretEntryInput(PREV, 'elvector', 3, 7, content);
  expect(createHash('sha256').update(input).digest('hex')).toBe(VECTOR);
  expect(Buffer.from(input.subarray(0, 28)).toString('utf8')).toContain('qv/audit/v2/secret-entry');
});

test('the hash covers the running tally, the signature and the key', () => {
  const other = (c: Partial<SecretAuditEntryContent>) =>
    secretEntryHash(PREV, 'elvector', 3, 7, { ...content, ...c });
  expect(other({ tally: [{ alpha: '11'.repeat(32), beta: '23'.repeat(32) }] })).not.toBe(VECTOR);
  expect(other({ signature: 'cd'.repeat(64) })).not.toBe(VECTOR);
  expect(other({ publicKey: 'bc'.repeat(32) })).not.toBe(VECTOR);
  expect(other({ outcome: 'rejected', reason: 'bad_signature' })).not.toBe(VECTOR);
});

test('an open ballot entry never encodes like a secret one (its own tag)', () => {
  const open = entryInput(PREV, 'elvector', 3, 7, {
    ballotId: content.ballotId,
    receipt: content.tracker,
    option: '',
    outcome: 'counted',
    reason: '',
  });
  expect(Buffer.from(open.subarray(4, 21)).toString('utf8')).toBe('qv/audit/v2/entry');
  expect(Buffer.from(open).equals(Buffer.from(secretEntryInput(PREV, 'elvector', 3, 7, content)))).toBe(
    false,
  );
});
