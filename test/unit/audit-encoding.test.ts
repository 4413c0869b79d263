import { partitionOf } from '../../shared/elections/model';
import { type AuditEntryContent, entryHash, genesisHash, receiptHash } from '../../shared/votes/audit-chain';
import { encodeParts, genesisInput, u64 } from '../../shared/votes/audit-encoding';
import type { AuditEntry, ChainHead } from '../../shared/votes/read';
import { verifyAudit } from '../../shared/votes/verify';
import * as web from '../../web/src/audit';

/**
 * The audit log encoding of docs/architecture.md "Audit log encoding" (qv/audit/v2),
 * pinned by fixed vectors computed independently (Python hashlib/hmac from the spec),
 * the same vectors from the browser verifier (web/src/audit.ts: the same verifier and
 * bytes, hashed with WebCrypto), and the
 * verifier's checks: duplicated receipts, receipts bound to their entry, and published
 * chain heads that catch a consistently rewritten log.
 */

const E = 'elvectors01';
const BALLOT = '00112233445566778899aabbccddeeff';
const NONCE = 'ff'.repeat(16);
const vectors = {
  genesisBytes:
    '0000001371762f61756469742f76322f67656e657369730000000b656c766563746f72733031000000080000000000000003',
  genesis: '318e03b52b227bc64bb32f18f23b4346e12e24b7671652dc9c06cc25d53cff5e',
  receipt: '9f35b1edb8622e196d48fea93b62dce35edc5c224fcb88198056e3e1e9cbcc76',
  entry1: '6197d096e3a91a6e3cfa66b7f8f8128e5b13b30f80b9cb471b1ccbd1b0976aac',
  entry2: '2797ef2b93ac34fe0167cd0e8606d52f65e981c889b55bcad75dc56f973e78c8',
  /** Entry 3: an approval ballot ("yes,no") of weight 3; its hash ends `"weight", u64(3)`. */
  entry3: 'ab81d6ef05f7f857dd60f58d3a4e68a56dc38dd2bd84ddced4ffe53abf1854c3',
  /** The same entry with weight 1: no weight part at all (as every entry before weights). */
  entry3Unweighted: '0a7cf2c9edc23a1ac8ffdf02e2d2a0ac1ed45672079db1eccf5a9f30389023c0',
};
const first: AuditEntryContent = {
  ballotId: BALLOT,
  receipt: vectors.receipt,
  option: 'yes',
  outcome: 'counted',
  reason: '',
};
const second: AuditEntryContent = {
  ballotId: 'ffeeddccbbaa99887766554433221100',
  receipt: 'ab'.repeat(32),
  option: 'no',
  outcome: 'rejected',
  reason: 'invalid_option',
};

const third: AuditEntryContent = {
  ballotId: '0123456789abcdef0123456789abcdef',
  receipt: 'cd'.repeat(32),
  option: 'yes,no',
  outcome: 'counted',
  reason: '',
  weight: 3,
};

describe('audit log encoding (qv/audit/v2): fixed vectors', () => {
  test('length-prefixed parts: u32be length + UTF-8 bytes; u64 is 8 bytes big-endian', () => {
    // One builder (shared/votes/audit-encoding.ts) for the server, the CLI and the browser.
    expect(Buffer.from(encodeParts(['qv/audit/v2/genesis', E, u64(3)])).toString('hex')).toBe(
      vectors.genesisBytes,
    );
    expect(Buffer.from(genesisInput(E, 3)).toString('hex')).toBe(vectors.genesisBytes);
  });

  test('genesis, receipt and entry hashes (server and browser agree with the vectors)', async () => {
    expect(genesisHash(E, 3)).toBe(vectors.genesis);
    expect(receiptHash(E, BALLOT, 'yes', NONCE)).toBe(vectors.receipt);
    expect(entryHash(vectors.genesis, E, 3, 1, first)).toBe(vectors.entry1);
    expect(entryHash(vectors.entry1, E, 3, 2, second)).toBe(vectors.entry2);
    expect(await web.receiptHash(E, BALLOT, 'yes', NONCE)).toBe(vectors.receipt);
    // The browser verifier (WebCrypto) accepts the vectors' chain: its genesis and entry
    // hashes are the vectors (a link or a hash that differed would be a problem).
    const vectorLog: AuditEntry[] = [
      { partition: 3, seq: 1, ...first, prev: vectors.genesis, hash: vectors.entry1 },
      { partition: 3, seq: 2, ...second, prev: vectors.entry1, hash: vectors.entry2 },
    ];
    const inBrowser = await web.verifyAudit(E, 4, vectorLog, null);
    expect(inBrowser.problems).toEqual([]);
    expect(inBrowser.heads['3']).toEqual({ hash: vectors.entry2, entries: 2 });
    expect(verifyAudit(E, 4, vectorLog, null).heads).toEqual(inBrowser.heads);
  });

  test('a weighted approval entry: "weight", u64(w) after reason; weight 1 adds nothing (server and browser)', async () => {
    expect(entryHash(vectors.entry2, E, 3, 3, third)).toBe(vectors.entry3);
    expect(entryHash(vectors.entry2, E, 3, 3, { ...third, weight: 1 })).toBe(vectors.entry3Unweighted);
    const { weight: _w, ...unweighted } = third;
    expect(entryHash(vectors.entry2, E, 3, 3, unweighted)).toBe(vectors.entry3Unweighted);
    // Entries 1 and 2 (no weight) still hash to the vectors of before weights.
    expect(entryHash(vectors.genesis, E, 3, 1, { ...first, weight: 1 })).toBe(vectors.entry1);
    const log: AuditEntry[] = [
      { partition: 3, seq: 1, ...first, prev: vectors.genesis, hash: vectors.entry1 },
      { partition: 3, seq: 2, ...second, prev: vectors.entry1, hash: vectors.entry2 },
      { partition: 3, seq: 3, ...third, prev: vectors.entry2, hash: vectors.entry3 },
    ];
    // The recount adds the weight to every option the ballot chose.
    const published = { totals: { yes: 4, no: 3 }, finalized: 2, rejected: 1 };
    const cli = verifyAudit(E, 4, log, published);
    expect(cli.problems).toEqual([]);
    expect(cli.totals).toEqual({ yes: 4, no: 3 });
    const inBrowser = await web.verifyAudit(E, 4, log, published);
    expect(inBrowser.problems).toEqual([]);
    expect(inBrowser.totals).toEqual(cli.totals);
    // A weight changed in place no longer matches the entry's hash, and the totals differ.
    const tampered = log.map((e) => (e.seq === 3 ? { ...e, weight: 30 } : e));
    expect(verifyAudit(E, 4, tampered, published).problems).toEqual([
      'partition 3 entry 3: hash does not match its content',
      'option yes: audit log counts 31, results say 4',
      'option no: audit log counts 30, results say 3',
    ]);
    const dropped = log.map((e) => (e.seq === 3 ? { ...e, weight: undefined } : e));
    expect(verifyAudit(E, 4, dropped, null).problems).toEqual([
      'partition 3 entry 3: hash does not match its content',
    ]);
    const junk = log.map((e) => (e.seq === 3 ? { ...e, weight: 'x' as unknown as number } : e));
    expect(verifyAudit(E, 4, junk, null).problems).toEqual([
      'partition 3 entry 3: weight "x" is not a whole number',
    ]);
  });

  test('no two different contents share an encoding (a "|" cannot move between fields)', () => {
    // Joined with '|', both read "x|y|z": the old encoding hashed them alike.
    const a = entryHash(vectors.genesis, E, 0, 1, { ...first, receipt: 'x|y', option: 'z' });
    const b = entryHash(vectors.genesis, E, 0, 1, { ...first, receipt: 'x', option: 'y|z' });
    expect(a).not.toBe(b);
    expect(genesisHash('el12345', 1)).not.toBe(genesisHash('el1234', 51));
    expect(entryHash(vectors.genesis, E, 0, 1, first)).not.toBe(entryHash(vectors.genesis, E, 0, 2, first));
  });

  test('the partition of a voter is keyed by the election secret, not a public hash of the user id', () => {
    const salt = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex');
    // HMAC-SHA256(salt, user)[0..4] big-endian mod 16, computed independently.
    expect([
      partitionOf('alice', 16, salt),
      partitionOf('bob', 16, salt),
      partitionOf('voter-7', 16, salt),
    ]).toEqual([11, 4, 8]);
    // Another salt, another placement: from the user id alone the partition is unknown.
    const users = Array.from({ length: 64 }, (_, i) => `user-${i}`);
    const other = 'ab'.repeat(32);
    const moved = users.filter((u) => partitionOf(u, 16, salt) !== partitionOf(u, 16, other));
    expect(moved.length).toBeGreaterThan(40);
  });
});

/** A well-formed chain over `contents` in partition `p`. */
function chain(p: number, contents: AuditEntryContent[]): AuditEntry[] {
  let prev = genesisHash(E, p);
  return contents.map((c, i) => {
    const hash = entryHash(prev, E, p, i + 1, c);
    const entry: AuditEntry = { partition: p, seq: i + 1, ...c, prev, hash };
    prev = hash;
    return entry;
  });
}

function ballot(n: number, option = 'yes'): AuditEntryContent {
  const ballotId = n.toString(16).padStart(32, '0');
  const nonce = (n + 1000).toString(16).padStart(32, '0');
  return {
    ballotId,
    receipt: receiptHash(E, ballotId, option, nonce),
    option,
    outcome: 'counted',
    reason: '',
  };
}

const headsOf = (entries: AuditEntry[][]): Record<string, ChainHead> =>
  Object.fromEntries(
    entries.map((es, p) => [
      String(p),
      { hash: es.length ? es[es.length - 1]!.hash : genesisHash(E, p), entries: es.length },
    ]),
  );

describe('verifyAudit: receipts, ballot ids and chain heads', () => {
  const p0 = chain(0, [ballot(1), ballot(2, 'no'), ballot(3)]);
  const p1 = chain(1, [ballot(4), ballot(5)]);
  const published = { totals: { yes: 4, no: 1 }, finalized: 5, rejected: 0, chainHeads: headsOf([p0, p1]) };

  test('an honest log verifies against its published heads, and a receipt with its nonce binds', () => {
    const r = verifyAudit(E, 2, [...p0, ...p1], published, [
      { receipt: p0[1]!.receipt, nonce: (1002).toString(16).padStart(32, '0') },
    ]);
    expect(r.problems).toEqual([]);
    expect(r.heads).toEqual(published.chainHeads);
  });

  test('two entries with the same receipt are flagged, even with valid chains', () => {
    // The server showed two voters one receipt and counted one of their ballots twice.
    const p1dup = chain(1, [ballot(4), { ...ballot(5), receipt: p0[0]!.receipt }]);
    const r = verifyAudit(E, 2, [...p0, ...p1dup], { ...published, chainHeads: headsOf([p0, p1dup]) });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      `receipt ${p0[0]!.receipt} is carried by 2 entries (partition 0 entry 1, partition 1 entry 2)`,
    ]);
  });

  test('a receipt carried by another ballot than the one it commits to is flagged', () => {
    // The entry carrying voter 2's receipt names another ballot id (or option).
    const swapped = chain(0, [ballot(1), { ...ballot(2, 'no'), option: 'yes' }, ballot(3)]);
    const r = verifyAudit(E, 1, swapped, null, [
      { receipt: swapped[1]!.receipt, nonce: (1002).toString(16).padStart(32, '0') },
    ]);
    expect(r.problems).toEqual([
      `receipt ${swapped[1]!.receipt} does not commit to the entry that carries it (ballot id or option differ)`,
    ]);
  });

  test('a consistently rewritten partition (every hash recomputed) is caught by the published head', () => {
    // Ballot 2 turned from "no" to "yes", chain recomputed, totals adjusted to match.
    const rewritten = chain(0, [ballot(1), { ...ballot(2, 'no'), option: 'yes' }, ballot(3)]);
    const forged = { ...published, totals: { yes: 5, no: 0 } };
    const withoutHeads = verifyAudit(E, 2, [...rewritten, ...p1], { ...forged, chainHeads: undefined });
    expect(withoutHeads.problems).toEqual([]); // links and totals alone cannot tell
    const r = verifyAudit(E, 2, [...rewritten, ...p1], forged);
    expect(r.problems).toEqual([
      `partition 0: entry 3 hashes to ${rewritten[2]!.hash}, the published chain head is ${p0[2]!.hash}`,
    ]);
  });

  test('a truncated partition, a skipped sequence number and a duplicated ballot id are flagged', () => {
    const r = verifyAudit(E, 2, [...p0.slice(0, 2), ...p1], null, [], published.chainHeads);
    expect(r.problems).toEqual(['partition 0: the saved chain head covers 3 entries, the audit log has 2']);
    const skipped = [p0[0]!, { ...p0[2]!, prev: p0[0]!.hash }];
    expect(verifyAudit(E, 1, skipped, null).problems).toEqual(
      expect.arrayContaining(['partition 0 entry 3: sequence number 3 where 2 comes next']),
    );
    const twice = chain(0, [ballot(1), ballot(1)]);
    expect(verifyAudit(E, 1, twice, null).problems).toEqual(
      expect.arrayContaining([`ballot id ${ballot(1).ballotId} appears in 2 entries`]),
    );
  });

  test('the browser verifier (WebCrypto) reports exactly what the CLI verifier reports', async () => {
    const p1dup = chain(1, [ballot(4), { ...ballot(5), receipt: p0[0]!.receipt }]);
    const rewritten = chain(0, [ballot(1), { ...ballot(2, 'no'), option: 'yes' }, ballot(3)]);
    const cases: [AuditEntry[], typeof published, string[]][] = [
      [
        [...p0, ...p1dup],
        { ...published, chainHeads: headsOf([p0, p1dup]) },
        [`receipt ${p0[0]!.receipt} is carried by 2 entries (partition 0 entry 1, partition 1 entry 2)`],
      ],
      [
        [...rewritten, ...p1],
        { ...published, totals: { yes: 5, no: 0 } },
        [`partition 0: entry 3 hashes to ${rewritten[2]!.hash}, the published chain head is ${p0[2]!.hash}`],
      ],
      [
        [p0[0]!, ...p0.slice(2), ...p1],
        published,
        [
          'partition 0 entry 3: sequence number 3 where 2 comes next',
          'partition 0 entry 3 does not link to the previous hash',
          'partition 0 entry 3: hash does not match its content',
          'option no: audit log counts 0, results say 1',
          'audit log has 4 counted votes, results say 5 finalized',
          'partition 0: the published chain head covers 3 entries, the audit log has 2',
        ],
      ],
    ];
    for (const [log, against, problems] of cases) {
      const cli = verifyAudit(E, 2, log, against);
      const browser = await web.verifyAudit(E, 2, log, against);
      expect(browser.problems).toEqual(problems);
      expect(browser.problems).toEqual(cli.problems);
      expect(browser.heads).toEqual(cli.heads);
      expect(browser.partitions.map((p) => p.ok)).toEqual([0, 1].map((p) => !cli.broken.includes(p)));
    }
    // A partition replaced consistently and its heads republished: the heads recorded
    // earlier (the election's finalChainHeads) still catch it, in the browser as in the CLI.
    const replaced = chain(1, [ballot(21), ballot(22)]);
    const republished = { ...published, chainHeads: headsOf([p0, replaced]) };
    const cli = verifyAudit(E, 2, [...p0, ...replaced], republished, [], published.chainHeads);
    const browser = await web.verifyAudit(E, 2, [...p0, ...replaced], republished, published.chainHeads);
    expect(browser.problems).toEqual([
      `partition 1: entry 2 hashes to ${replaced[1]!.hash}, the saved chain head is ${p1[1]!.hash}`,
    ]);
    expect(browser.problems).toEqual(cli.problems);
    // Hidden totals: nothing to check the log against, only its own chains.
    const hidden = await web.verifyAudit(E, 2, [...p0, ...p1], { ...published, totals: {}, hidden: true });
    expect(hidden.problems).toEqual([]);
  });
});

describe('entry hash: every field it commits to changes it', () => {
  const prev = vectors.genesis;
  const base = entryHash(prev, E, 3, 1, first);

  test.each([
    ['election id', () => entryHash(prev, 'elvectors02', 3, 1, first)],
    ['partition', () => entryHash(prev, E, 4, 1, first)],
    ['sequence number', () => entryHash(prev, E, 3, 2, first)],
    ['previous hash', () => entryHash(vectors.entry1, E, 3, 1, first)],
    ['ballot id', () => entryHash(prev, E, 3, 1, { ...first, ballotId: second.ballotId })],
    ['receipt', () => entryHash(prev, E, 3, 1, { ...first, receipt: second.receipt })],
    ['option', () => entryHash(prev, E, 3, 1, { ...first, option: 'no' })],
    ['outcome', () => entryHash(prev, E, 3, 1, { ...first, outcome: 'rejected' })],
    ['reason', () => entryHash(prev, E, 3, 1, { ...first, reason: 'invalid_option' })],
    ['weight', () => entryHash(prev, E, 3, 1, { ...first, weight: 2 })],
  ])('%s', (_field, changed) => {
    expect(changed()).toMatch(/^[0-9a-f]{64}$/);
    expect(changed()).not.toBe(base);
  });
});

describe('verifyAudit: each kind of tampering is detected and named', () => {
  // Partition 0: yes, no, yes, yes; partition 1: yes, no. Published with their heads.
  const p0 = chain(0, [ballot(11), ballot(12, 'no'), ballot(13), ballot(14)]);
  const p1 = chain(1, [ballot(15), ballot(16, 'no')]);
  const heads = headsOf([p0, p1]);
  const published = { totals: { yes: 4, no: 2 }, finalized: 6, rejected: 0, chainHeads: heads };
  const nonceOf = (n: number) => (n + 1000).toString(16).padStart(32, '0');

  test('the untampered log verifies (the baseline every case below departs from)', () => {
    const r = verifyAudit(E, 2, [...p0, ...p1], published, [p0[1]!.receipt], heads);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.totals).toEqual({ yes: 4, no: 2 });
  });

  test("an existing entry's option changed in place: its hash no longer matches, totals differ", () => {
    const changed = p0.map((e, i) => (i === 1 ? { ...e, option: 'yes' } : e));
    const r = verifyAudit(E, 2, [...changed, ...p1], published);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      'partition 0 entry 2: hash does not match its content',
      'option yes: audit log counts 5, results say 4',
      'option no: audit log counts 1, results say 2',
    ]);
    // Even with the totals forged to agree, the hash names the entry.
    const agreeing = { ...published, totals: { yes: 5, no: 1 } };
    expect(verifyAudit(E, 2, [...changed, ...p1], agreeing).problems).toEqual([
      'partition 0 entry 2: hash does not match its content',
    ]);
  });

  test("an option changed with that entry's hash recomputed: the next entry no longer links", () => {
    const content = { ...p0[1]!, option: 'yes' };
    const rehashed = { ...content, hash: entryHash(p0[0]!.hash, E, 0, 2, content) };
    const log = [p0[0]!, rehashed, ...p0.slice(2), ...p1];
    expect(verifyAudit(E, 2, log, { ...published, totals: { yes: 5, no: 1 } }).problems).toEqual([
      'partition 0 entry 3 does not link to the previous hash',
      'partition 0 entry 3: hash does not match its content',
    ]);
  });

  test('an entry deleted from the middle: sequence gap, broken link, and a short chain against the head', () => {
    const log = [p0[0]!, ...p0.slice(2), ...p1];
    const r = verifyAudit(E, 2, log, { ...published, totals: { yes: 4, no: 1 }, finalized: 5 }, [
      p0[1]!.receipt,
    ]);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      'partition 0 entry 3: sequence number 3 where 2 comes next',
      'partition 0 entry 3 does not link to the previous hash',
      'partition 0 entry 3: hash does not match its content',
      'partition 0 entry 4: sequence number 4 where 3 comes next',
      'partition 0 entry 4: hash does not match its content',
      'partition 0: the published chain head covers 4 entries, the audit log has 3',
      `receipt ${p0[1]!.receipt} is not in the audit log`,
    ]);
    expect(r.receipts[p0[1]!.receipt]).toBe('missing');
  });

  test('the last entry deleted (every remaining link intact): the totals and the published head name it', () => {
    const r = verifyAudit(E, 2, [...p0.slice(0, 3), ...p1], published);
    expect(r.problems).toEqual([
      'option yes: audit log counts 3, results say 4',
      'audit log has 5 counted votes, results say 6 finalized',
      'partition 0: the published chain head covers 4 entries, the audit log has 3',
    ]);
    // With the totals and the head republished to match, a head saved earlier still catches it.
    const republished = {
      totals: { yes: 3, no: 2 },
      finalized: 5,
      rejected: 0,
      chainHeads: headsOf([p0.slice(0, 3), p1]),
    };
    expect(verifyAudit(E, 2, [...p0.slice(0, 3), ...p1], republished).problems).toEqual([]);
    expect(verifyAudit(E, 2, [...p0.slice(0, 3), ...p1], republished, [], heads).problems).toEqual([
      'partition 0: the saved chain head covers 4 entries, the audit log has 3',
    ]);
  });

  test('two entries swapped: both are out of sequence, unlinked and mis-hashed', () => {
    const log = [p0[0]!, p0[2]!, p0[1]!, p0[3]!, ...p1];
    const r = verifyAudit(E, 2, log, published);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      'partition 0 entry 3: sequence number 3 where 2 comes next',
      'partition 0 entry 3 does not link to the previous hash',
      'partition 0 entry 3: hash does not match its content',
      'partition 0 entry 2: sequence number 2 where 3 comes next',
      'partition 0 entry 2 does not link to the previous hash',
      'partition 0 entry 2: hash does not match its content',
      'partition 0 entry 4 does not link to the previous hash',
      'partition 0 entry 4: hash does not match its content',
    ]);
    // Swapped with sequence numbers, links and hashes all recomputed: the head catches it.
    const reordered = chain(0, [ballot(11), ballot(13), ballot(12, 'no'), ballot(14)]);
    expect(verifyAudit(E, 2, [...reordered, ...p1], published).problems).toEqual([
      `partition 0: entry 4 hashes to ${reordered[3]!.hash}, the published chain head is ${p0[3]!.hash}`,
    ]);
  });

  test("a whole partition's chain replaced consistently: only the published or saved heads catch it", () => {
    // Other ballots, one more of them, every hash recomputed, totals made to agree.
    const replaced = chain(1, [ballot(21), ballot(22), ballot(23, 'no')]);
    const forged = { totals: { yes: 5, no: 2 }, finalized: 7, rejected: 0, chainHeads: heads };
    expect(verifyAudit(E, 2, [...p0, ...replaced], { ...forged, chainHeads: undefined }).problems).toEqual(
      [],
    );
    expect(verifyAudit(E, 2, [...p0, ...replaced], forged).problems).toEqual([
      `partition 1: entry 2 hashes to ${replaced[1]!.hash}, the published chain head is ${p1[1]!.hash}`,
    ]);
    // The server also republished the heads: a head saved earlier still catches it, and
    // the voters' receipts are gone.
    const republished = { ...forged, chainHeads: headsOf([p0, replaced]) };
    const r = verifyAudit(E, 2, [...p0, ...replaced], republished, [p1[0]!.receipt], heads);
    expect(r.problems).toEqual([
      `partition 1: entry 2 hashes to ${replaced[1]!.hash}, the saved chain head is ${p1[1]!.hash}`,
      `receipt ${p1[0]!.receipt} is not in the audit log`,
    ]);
  });

  test('a ballot replayed (its receipt duplicated) into a consistent chain: the receipt and ballot id are named', () => {
    const replayed = chain(1, [ballot(15), ballot(16, 'no'), ballot(16, 'no')]);
    const forged = {
      totals: { yes: 4, no: 3 },
      finalized: 7,
      rejected: 0,
      chainHeads: headsOf([p0, replayed]),
    };
    const r = verifyAudit(E, 2, [...p0, ...replayed], forged, [
      { receipt: p1[1]!.receipt, nonce: nonceOf(16) },
    ]);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      `receipt ${p1[1]!.receipt} is carried by 2 entries (partition 1 entry 2, partition 1 entry 3)`,
      `ballot id ${ballot(16).ballotId} appears in 2 entries`,
    ]);
    // One receipt on two different ballots in one partition (fresh ballot id): the receipt alone names it.
    const copied = chain(1, [ballot(15), ballot(16, 'no'), { ...ballot(17, 'no'), receipt: p1[1]!.receipt }]);
    expect(
      verifyAudit(E, 2, [...p0, ...copied], { ...forged, chainHeads: headsOf([p0, copied]) }).problems,
    ).toEqual([
      `receipt ${p1[1]!.receipt} is carried by 2 entries (partition 1 entry 2, partition 1 entry 3)`,
    ]);
  });
});
