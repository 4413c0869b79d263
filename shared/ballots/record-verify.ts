import type { BallotCheckOptions } from './ballot-verify';
import { type BallotVerdict, reasonString, reject } from './ballot-verdict';
import { verifyBallotBatch } from './batch-verify';
import { toHex } from './bytes';
import { decodePoint, encodePoint } from './codec';
import { combineShares, checkDecryptionShare } from './decryption';
import { checkCommitmentEntry, judgeComplaint, jointKeyOf, publicShareKey, qualifiedTrustees } from './dkg';
import { type PreparedElection, prepareElection } from './election';
import type { Group } from './group';
import { electionHash, validateManifest } from './manifest';
import { checkOpening } from './spoil';
import type { RandomBytes } from './random';
import { sumBallots } from './tally';
import { RECORD_VERSION } from './tags';
import type { Ballot, CommitmentEntry, ElectionRecord } from './types';

/**
 * The election verifier (BALLOTS.md §7) as a pure function over the record: everything
 * is recomputed from the record alone, and every failure names its entry (trustee,
 * ballot tracker, option) and the check, so that an altered byte is found and located.
 */

/** One failed check. `ballot` is the 0-based position in the record's ballot list. */
export interface RecordFailure {
  check: string;
  message: string;
  trustee?: number;
  ballot?: number;
  tracker?: string;
  option?: number;
}

/** The verifier's answer: `ok` iff there is no failure. */
export interface RecordVerdict {
  ok: boolean;
  failures: RecordFailure[];
}

/**
 * Options: the group backend, the Ed25519 verifier (default noble, strict RFC 8032), and
 * for batch verification the batch size (default 100) and the weights' randomness.
 */
export interface RecordVerifyOptions<P> {
  group: Group<P>;
  verifySignature?: BallotCheckOptions['verifySignature'];
  batchSize?: number;
  random?: RandomBytes;
}

function checkCeremony<P>(
  g: Group<P>,
  r: ElectionRecord,
  fail: (f: RecordFailure) => void,
): CommitmentEntry[] {
  const m = r.manifest;
  const c = r.ceremony;
  const seen = new Set<number>();
  for (const entry of c.commitments ?? []) {
    if (!m.trustees.some((t) => t.index === entry.trustee) || seen.has(entry.trustee)) {
      fail({
        check: 'commitment_trustee',
        trustee: entry.trustee,
        message: 'unknown or repeated trustee index',
      });
      continue;
    }
    seen.add(entry.trustee);
    const fault = checkCommitmentEntry(g, m, entry);
    if (fault?.check === 'malformed') {
      fail({ check: 'commitment_malformed', trustee: entry.trustee, message: fault.message });
    } else if (fault) {
      fail({
        check: 'commitment_proof',
        trustee: entry.trustee,
        message: `the proof of knowledge of coefficient ${fault.coefficient} fails`,
      });
    }
  }
  for (const complaint of c.complaints ?? []) {
    const upheld = judgeComplaint(
      g,
      (c.commitments ?? []).find((e) => e.trustee === complaint.against),
      complaint,
    );
    if (complaint.upheld !== upheld) {
      fail({
        check: 'complaint',
        trustee: complaint.against,
        message: `the complaint of ${complaint.from} against ${complaint.against} should be ${upheld ? 'upheld' : 'dismissed'}`,
      });
    }
  }
  const Q = qualifiedTrustees(g, m, c.commitments ?? [], c.complaints ?? []);
  if (JSON.stringify(Q) !== JSON.stringify(c.qualified)) {
    fail({
      check: 'qualified',
      message: `qualified should be [${Q.join(',')}], the record says [${c.qualified}]`,
    });
  }
  if (Q.length < m.threshold)
    fail({ check: 'qualified', message: `${Q.length} qualified trustees < threshold ${m.threshold}` });
  const entries = Q.map((i) => c.commitments.find((e) => e.trustee === i)!);
  const K = encodePoint(g, jointKeyOf(g, entries));
  if (K !== c.jointKey)
    fail({ check: 'joint_key', message: 'jointKey is not the sum of the qualified A_{i,0}' });
  if (toHex(electionHash(m, K, entries)) !== r.electionHash) {
    fail({ check: 'election_hash', message: 'electionHash does not match the manifest and ceremony' });
  }
  return entries;
}

function checkBallots<P>(
  e: PreparedElection<P>,
  r: ElectionRecord,
  opts: RecordVerifyOptions<P>,
  fail: (f: RecordFailure) => void,
): Ballot[] {
  const roll = new Set(r.roll.map((x) => x.publicKey));
  // Cryptographic verdicts first, in batches (A4); "first for its key" is applied after,
  // in record order, which gives the same states as checking one ballot at a time.
  const cast = r.ballots.map((b, i) => ({ b, i })).filter(({ b }) => b.state !== 'spoiled');
  const verdicts = new Map<number, BallotVerdict>();
  const size = opts.batchSize ?? 100;
  for (let at = 0; at < cast.length; at += size) {
    const chunk = cast.slice(at, at + size);
    const res = verifyBallotBatch(
      e,
      chunk.map(({ b }) => b),
      { isOnRoll: (pk) => roll.has(pk), verifySignature: opts.verifySignature, random: opts.random },
    );
    chunk.forEach(({ i }, j) => {
      verdicts.set(i, res.verdicts[j]!);
    });
  }
  const countedKeys = new Set<string>();
  const counted: Ballot[] = [];
  r.ballots.forEach((b, i) => {
    const where = { ballot: i, tracker: typeof b.tracker === 'string' ? b.tracker : undefined };
    if (b.state === 'spoiled') {
      const bad = b.spoiled ? checkOpening(e, b, b.spoiled) : { option: 0, message: 'no opening' };
      if (bad)
        fail({
          check: 'spoiled_opening',
          ...where,
          ...(bad.option ? { option: bad.option } : {}),
          message: bad.message,
        });
      return;
    }
    let verdict = verdicts.get(i)!;
    if (verdict.valid && countedKeys.has(b.publicKey)) {
      verdict = reject('duplicate_key', 'a ballot with this key was already counted');
    }
    const expected = verdict.valid ? 'counted' : 'rejected';
    if (b.state !== expected) {
      const why = verdict.valid
        ? 'the ballot is valid and first for its key'
        : `${reasonString(verdict)}: ${verdict.message}`;
      fail({
        check: 'ballot_state',
        ...where,
        ...(!verdict.valid && verdict.option ? { option: verdict.option } : {}),
        message: `state is ${b.state}, should be ${expected} (${why})`,
      });
    }
    if (verdict.valid) {
      countedKeys.add(b.publicKey);
      counted.push(b);
    }
  });
  return counted;
}

function checkTally<P>(
  g: Group<P>,
  r: ElectionRecord,
  counted: Ballot[],
  fail: (f: RecordFailure) => void,
): void {
  const L = r.manifest.options.length;
  const sums = sumBallots(g, L, counted);
  if (!Array.isArray(r.tally?.encrypted) || r.tally.encrypted.length !== L) {
    fail({ check: 'tally', message: `expected ${L} encrypted totals` });
    return;
  }
  sums.forEach((s, i) => {
    const t = r.tally.encrypted[i]!;
    if (t.alpha !== s.alpha || t.beta !== s.beta) {
      fail({
        check: 'tally',
        option: i + 1,
        message: `option ${i + 1}: the encrypted total is not the sum of the counted ballots`,
      });
    }
  });
  if (r.tally.countedBallots !== counted.length) {
    fail({
      check: 'counted_ballots',
      message: `countedBallots is ${r.tally.countedBallots}, ${counted.length} ballots are counted`,
    });
  }
}

function checkDecryption<P>(
  e: PreparedElection<P>,
  r: ElectionRecord,
  qualified: CommitmentEntry[],
  countedBallots: number,
  fail: (f: RecordFailure) => void,
): void {
  const g = e.group;
  const d = r.decryption;
  if (!d) return;
  const m = r.manifest;
  const valid = new Map<number, (typeof d.shares)[number]>();
  for (const share of d.shares) {
    if (!m.trustees.some((t) => t.index === share.trustee) || valid.has(share.trustee)) {
      fail({ check: 'share_trustee', trustee: share.trustee, message: 'unknown or repeated trustee index' });
      continue;
    }
    const X = publicShareKey(g, qualified, share.trustee);
    const fault = checkDecryptionShare(g, e.hash, r.tally.encrypted, share, X);
    if (fault) {
      fail({
        check: fault.check,
        trustee: share.trustee,
        ...('option' in fault ? { option: fault.option } : {}),
        message: fault.message,
      });
    } else {
      valid.set(share.trustee, share);
    }
  }
  const used = Array.isArray(d.used) ? d.used : [];
  if (used.length !== m.threshold || new Set(used).size !== used.length || used.some((j) => !valid.has(j))) {
    fail({
      check: 'decryption_used',
      message: `used must be ${m.threshold} distinct trustees with valid shares`,
    });
    return;
  }
  const L = m.options.length;
  if (!Array.isArray(d.totals) || d.totals.length !== L) {
    fail({ check: 'totals', message: `expected ${L} totals` });
    return;
  }
  const M = combineShares(
    g,
    r.tally.encrypted,
    used.map((j) => valid.get(j)!),
  );
  let sum = 0;
  d.totals.forEach((t, i) => {
    if (!Number.isSafeInteger(t) || t < 0 || t > countedBallots) {
      fail({
        check: 'total',
        option: i + 1,
        message: `option ${i + 1}: total ${t} outside 0..${countedBallots}`,
      });
      return;
    }
    sum += t;
    if (!g.equals(g.mulPublic(g.base, BigInt(t)), M[i]!)) {
      fail({
        check: 'total',
        option: i + 1,
        message: `option ${i + 1}: t·G differs from the combined decryption`,
      });
    }
  });
  if (sum < m.minSelections * countedBallots || sum > m.maxSelections * countedBallots) {
    fail({ check: 'totals_sum', message: `the totals add up to ${sum}, outside the allowed range` });
  }
}

/** Verifies a whole qv/v1 record (BALLOTS.md §7). Never throws on bad input: it reports. */
export function verifyRecord<P>(record: ElectionRecord, opts: RecordVerifyOptions<P>): RecordVerdict {
  const failures: RecordFailure[] = [];
  const fail = (f: RecordFailure) => {
    failures.push(f);
  };
  const g = opts.group;
  try {
    if (record?.version !== RECORD_VERSION)
      fail({ check: 'version', message: `version must be ${RECORD_VERSION}` });
    validateManifest(record.manifest);
  } catch (err) {
    fail({ check: 'manifest', message: (err as Error).message });
    return { ok: false, failures };
  }
  let e: PreparedElection<P>;
  let qualified: CommitmentEntry[];
  try {
    qualified = checkCeremony(g, record, fail);
    decodePoint(g, record.ceremony.jointKey);
    e = prepareElection(g, {
      manifest: record.manifest,
      electionHash: record.electionHash,
      jointKey: record.ceremony.jointKey,
    });
  } catch (err) {
    fail({ check: 'ceremony', message: `cannot use the ceremony: ${(err as Error).message}` });
    return { ok: false, failures };
  }
  try {
    const counted = checkBallots(e, record, opts, fail);
    checkTally(g, record, counted, fail);
    checkDecryption(e, record, qualified, counted.length, fail);
  } catch (err) {
    fail({ check: 'malformed', message: (err as Error).message });
  }
  return { ok: failures.length === 0, failures };
}
