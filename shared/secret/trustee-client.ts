import {
  type CommitmentEntry,
  type SealedShare,
  type TransportKeyPair,
  type TrusteeSecret,
  ceremonyContext,
  checkCommitmentEntry,
  checkShare,
  combineSecretShare,
  computeDecryptionShare,
  createTransportKey,
  createTrustee,
  cryptoRandomBytes,
  defaultGroup,
  evaluateShare,
  fromHex,
  openShare,
  sealShare,
} from '../ballots';
import type { Election } from '../elections/model';
import { type ApiCall, expectStatus } from './api-call';
import type { CeremonyView, PublishedCommitment } from './ceremony';
import { manifestOf } from './election-manifest';

/**
 * A trustee's side of the key ceremony and of the tally (BALLOTS.md §3, §5), over the
 * HTTP API. Every secret (the polynomial, the transport key, and the shares received)
 * stays with the caller in a {@link TrusteeKeys} it stores (a 0600 file for the CLI,
 * the browser for the web app); the server sees commitments, proofs, sealed shares,
 * and a share in the clear only when the trustee must answer a complaint.
 */

/** What a trustee keeps for one election (the CLI's key file). */
export interface TrusteeKeys {
  electionId: string;
  trustee: number;
  polynomial: TrusteeSecret;
  commitment: CommitmentEntry;
  transport: TransportKeyPair;
}

/** New keys for trustee `index` of `election` (call once; store before publishing anything). */
export function newTrusteeKeys(election: Election, index: number): TrusteeKeys {
  const manifest = manifestOf(election);
  const { secret, commitment } = createTrustee(defaultGroup, manifest, index, cryptoRandomBytes);
  return {
    electionId: election.id,
    trustee: index,
    polynomial: secret,
    commitment,
    transport: createTransportKey(defaultGroup),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ceremonyOf(api: ApiCall, id: string): Promise<CeremonyView> {
  return expectStatus(await api('GET', `/elections/${id}/ceremony`), 'ceremony', 200).body as CeremonyView;
}

/** What one pass of the ceremony found and did (the web trustee page shows it). */
export interface CeremonyProgress {
  /** The ceremony as read at the start of the pass. */
  view: CeremonyView;
  /** What is left to do or wait for; '' once the ceremony is finished (done or failed). */
  left: string;
  /** What this pass did, in order, in plain words. */
  did: string[];
  /** This trustee's checks of the shares dealt to it, once it looked at them. */
  checked?: ReceivedCheck;
}

/** Dealers whose share to me verified, failed (complained against), or is not in yet. */
export interface ReceivedCheck {
  good: number[];
  bad: number[];
  missing: number[];
}

/** One pass of the ceremony from where it stands; returns what is left to do ('' when nothing). */
export async function ceremonyStep(api: ApiCall, election: Election, keys: TrusteeKeys): Promise<string> {
  return (await advanceCeremony(api, election, keys)).left;
}

/**
 * One pass of the ceremony from where it stands: publish my commitments, deal my sealed
 * shares, answer complaints against me, then check what I received (each dealer's
 * published proofs and Feldman's check of its share) and acknowledge or complain.
 * Every step is idempotent, so a pass may be repeated, on this device or another.
 */
export async function advanceCeremony(
  api: ApiCall,
  election: Election,
  keys: TrusteeKeys,
): Promise<CeremonyProgress> {
  const id = election.id;
  const me = keys.trustee;
  const view = await ceremonyOf(api, id);
  const did: string[] = [];
  const mine = view.trustees.find((t) => t.index === me);
  if (!mine) throw new Error(`trustee ${me} is not in the ceremony of election ${id}`);
  const published = view.commitments.find((c) => c.trustee === me);
  if (published && !sameCommitment(published, keys)) {
    throw new Error(
      `the commitments published for trustee ${me} are not those of these keys: use the key file this trustee began the ceremony with`,
    );
  }
  const progress = (left: string, checked?: ReceivedCheck): CeremonyProgress => ({
    view,
    left,
    did,
    ...(checked ? { checked } : {}),
  });
  if (view.state === 'done' || view.state === 'failed') return progress('');
  if (!mine.committed) {
    expectStatus(
      await api('POST', `/elections/${id}/ceremony/commitments`, {
        coefficients: keys.commitment.coefficients,
        proofs: keys.commitment.proofs,
        transportKey: keys.transport.publicKey,
      }),
      'commitments',
      200,
    );
    did.push('published my commitments and proofs');
    return progress('wait for every commitment');
  }
  if (view.state === 'commitments') return progress('wait for every commitment');
  const ctx = ceremonyContext(manifestOf(election));
  if (!mine.dealt) {
    const shares = await Promise.all(
      view.commitments
        .filter((c) => c.trustee !== me)
        .map(async (c) => {
          const s = await sealShare(
            defaultGroup,
            ctx,
            { index: me, keys: keys.transport },
            { index: c.trustee, publicKey: c.transportKey },
            evaluateShare(keys.polynomial, c.trustee),
          );
          return { to: s.to, nonce: s.nonce, ciphertext: s.ciphertext };
        }),
    );
    expectStatus(await api('POST', `/elections/${id}/ceremony/shares`, { shares }), 'shares', 200);
    did.push(`sent sealed shares to trustee(s) ${shares.map((s) => s.to).join(', ')}`);
  }
  // Answer every complaint against me with the share in the clear.
  for (const c of view.complaints.filter((x) => x.against === me && !x.answered)) {
    expectStatus(
      await api('POST', `/elections/${id}/ceremony/reveals`, {
        to: c.from,
        share: evaluateShare(keys.polynomial, c.from),
      }),
      'reveal',
      200,
    );
    did.push(`answered the complaint of trustee ${c.from} by revealing its share`);
  }
  if (mine.acknowledged || view.complaints.some((c) => c.from === me))
    return progress('wait for the admin to finish');
  const received = await receivedShares(api, election, keys);
  const checked: ReceivedCheck = {
    good: [...received.shares.keys()].sort((a, b) => a - b),
    bad: received.bad,
    missing: received.missing,
  };
  if (received.missing.length)
    return progress(`wait for shares from ${received.missing.join(', ')}`, checked);
  if (received.bad.length) {
    for (const i of received.bad) {
      expectStatus(
        await api('POST', `/elections/${id}/ceremony/complaints`, { against: i }),
        'complaint',
        201,
      );
      did.push(`complained against trustee ${i}: its share to me does not match its commitments`);
    }
  } else {
    expectStatus(await api('POST', `/elections/${id}/ceremony/acknowledge`, {}), 'acknowledge', 200);
    did.push('acknowledged: every share I received verified');
  }
  return progress('wait for the admin to finish', checked);
}

/** Whether the server shows exactly the commitments these keys hold (JSON as published). */
function sameCommitment(published: PublishedCommitment, keys: TrusteeKeys): boolean {
  const pick = (c: CommitmentEntry, transportKey: string) =>
    JSON.stringify([c.coefficients, c.proofs.map((p) => ({ c: p.c, v: p.v })), transportKey]);
  return pick(published, published.transportKey) === pick(keys.commitment, keys.transport.publicKey);
}

/**
 * The shares addressed to me, opened and checked: the dealer's published commitments
 * must carry valid proofs (checked here too, not taken from the server on trust) and
 * the share must pass Feldman's check against them.
 */
async function receivedShares(
  api: ApiCall,
  election: Election,
  keys: TrusteeKeys,
): Promise<{ shares: Map<number, string>; missing: number[]; bad: number[] }> {
  const id = election.id;
  const me = keys.trustee;
  const view = await ceremonyOf(api, id);
  const r = expectStatus(await api('GET', `/elections/${id}/ceremony/shares`), 'my shares', 200).body as {
    shares: SealedShare[];
    transportKeys: Record<string, string>;
  };
  const manifest = manifestOf(election);
  const ctx = ceremonyContext(manifest);
  const shares = new Map<number, string>();
  const bad: number[] = [];
  for (const s of r.shares) {
    const dealer = view.commitments.find((c) => c.trustee === s.from);
    try {
      const share = await openShare(
        defaultGroup,
        ctx,
        { index: me, keys: keys.transport },
        { index: s.from, publicKey: r.transportKeys[String(s.from)]! },
        s,
      );
      if (
        !dealer ||
        checkCommitmentEntry(defaultGroup, manifest, dealer) !== null ||
        !checkShare(defaultGroup, dealer, me, share)
      )
        bad.push(s.from);
      else shares.set(s.from, share);
    } catch {
      bad.push(s.from);
    }
  }
  const missing = view.commitments
    .map((c) => c.trustee)
    .filter((i) => i !== me && !r.shares.some((s) => s.from === i));
  return { shares, missing, bad };
}

/** Runs ceremony steps until the ceremony is finished (or `timeoutMs`); returns its final state. */
export async function runCeremony(
  api: ApiCall,
  election: Election,
  keys: TrusteeKeys,
  opts: { pollMs?: number; timeoutMs?: number; onStep?: (s: string) => void } = {},
): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  for (;;) {
    const { left } = await advanceCeremony(api, election, keys);
    if (!left) return (await ceremonyOf(api, election.id)).state;
    opts.onStep?.(left);
    if (Date.now() > deadline) throw new Error(`ceremony not finished: ${left}`);
    await sleep(opts.pollMs ?? 500);
  }
}

/**
 * `x_j = Σ_{i∈Q} s_{i→j}` from the relayed shares (and my own `f_j(j)`), then my
 * decryption share of the final tally, posted. Resolves with the server's answer.
 */
export async function decryptAndPost(
  api: ApiCall,
  election: Election,
  keys: TrusteeKeys,
): Promise<{ decryption: { used: number[]; totals: number[] } | null; waitingFor: number }> {
  const id = election.id;
  const me = keys.trustee;
  const view = await ceremonyOf(api, id);
  if (view.state !== 'done' || !view.qualified || !view.electionHash)
    throw new Error('the ceremony is not done');
  const { shares } = await receivedShares(api, election, keys);
  shares.set(me, evaluateShare(keys.polynomial, me));
  // A dealer I complained against stays qualified when it revealed a valid share: that
  // share (public now, in the decided complaint) is the one I use (Pedersen's DKG).
  for (const c of view.decided ?? []) {
    if (c.from !== me || c.upheld || c.revealedShare === undefined || shares.has(c.against)) continue;
    const dealer = view.commitments.find((d) => d.trustee === c.against);
    if (dealer && checkShare(defaultGroup, dealer, me, c.revealedShare))
      shares.set(c.against, c.revealedShare);
  }
  const missing = view.qualified.filter((i) => !shares.has(i));
  if (missing.length) throw new Error(`no valid share from qualified trustee(s) ${missing.join(', ')}`);
  const x = combineSecretShare(view.qualified.map((i) => shares.get(i)!));
  const tally = expectStatus(await api('GET', `/elections/${id}/tally`), 'tally', 200).body as {
    encrypted: { alpha: string; beta: string }[];
    final: boolean;
  };
  if (!tally.final) throw new Error('the tally is not final yet (the election must be closed and drained)');
  const share = computeDecryptionShare(defaultGroup, fromHex(view.electionHash, 32), tally.encrypted, me, x);
  return expectStatus(await api('POST', `/elections/${id}/decryption-shares`, share), 'decryption share', 201)
    .body;
}
