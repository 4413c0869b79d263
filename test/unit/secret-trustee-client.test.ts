import {
  ceremonyContext,
  checkDecryptionShare,
  defaultGroup,
  encodePoint,
  evaluateShare,
  publicShareKey,
  sealShare,
} from '../../shared/ballots';
import type { Election } from '../../shared/elections/model';
import type { ApiCall } from '../../shared/secret/api-call';
import type { CeremonyView } from '../../shared/secret/ceremony';
import { manifestOf } from '../../shared/secret/election-manifest';
import {
  type TrusteeKeys,
  advanceCeremony,
  decryptAndPost,
  newTrusteeKeys,
} from '../../shared/secret/trustee-client';

/**
 * The trustee's side of the ceremony (the CLI and the web page run it) does not take
 * the server's word: it checks each dealer's published proofs before using its share,
 * and refuses to go on with keys whose commitments are not the ones published for it.
 * The server here is a stand-in answering the ceremony routes from fixed public values
 * (the real routes are covered end to end in test/e2e/secret-ballot*.test.ts).
 */
const election = {
  id: 'el-client',
  title: 'Client',
  options: [
    { id: 'a', label: 'A' },
    { id: 'b', label: 'B' },
  ],
  ballot: 'secret',
  trustees: [
    { index: 1, id: 'u1' },
    { index: 2, id: 'u2' },
  ],
  threshold: 2,
} as unknown as Election;

const me = newTrusteeKeys(election, 1);
const dealer = newTrusteeKeys(election, 2);

/** A server in state `shares` where both trustees committed and dealt; records what is posted. */
async function server(published: { mine: TrusteeKeys; dealer: TrusteeKeys['commitment'] }) {
  const sealed = await sealShare(
    defaultGroup,
    ceremonyContext(manifestOf(election)),
    { index: 2, keys: dealer.transport },
    { index: 1, publicKey: me.transport.publicKey },
    evaluateShare(dealer.polynomial, 1),
  );
  const view: CeremonyView = {
    electionId: election.id,
    state: 'shares',
    threshold: 2,
    trustees: [1, 2].map((index) => ({
      index,
      id: `u${index}`,
      committed: true,
      dealt: true,
      acknowledged: false,
    })),
    commitments: [
      { ...published.mine.commitment, transportKey: published.mine.transport.publicKey },
      { ...published.dealer, transportKey: dealer.transport.publicKey },
    ],
    complaints: [],
  };
  const posted: { path: string; body: unknown }[] = [];
  const api: ApiCall = async (method, path, body) => {
    if (method === 'POST') {
      posted.push({ path, body });
      return { status: path.endsWith('/complaints') ? 201 : 200, body: {} };
    }
    if (path.endsWith('/ceremony/shares')) {
      return {
        status: 200,
        body: {
          shares: [sealed],
          transportKeys: { '1': me.transport.publicKey, '2': dealer.transport.publicKey },
        },
      };
    }
    return { status: 200, body: view };
  };
  return { api, posted };
}

describe('a trustee checks the published ceremony itself', () => {
  test('honest dealer: its proofs and share verify, the trustee acknowledges', async () => {
    const { api, posted } = await server({ mine: me, dealer: dealer.commitment });
    const p = await advanceCeremony(api, election, me);
    expect(p.checked).toEqual({ good: [2], bad: [], missing: [] });
    expect(posted.map((x) => x.path)).toEqual([`/elections/${election.id}/ceremony/acknowledge`]);
    expect(p.did).toEqual(['acknowledged: every share I received verified']);
  });

  test('a dealer whose published proof fails is complained against, even though its share matches', async () => {
    const proofs = dealer.commitment.proofs.map((x) => ({ ...x }));
    proofs[1] = { ...proofs[1]!, v: proofs[0]!.v };
    const { api, posted } = await server({ mine: me, dealer: { ...dealer.commitment, proofs } });
    const p = await advanceCeremony(api, election, me);
    expect(p.checked).toEqual({ good: [], bad: [2], missing: [] });
    expect(posted).toEqual([{ path: `/elections/${election.id}/ceremony/complaints`, body: { against: 2 } }]);
    expect(p.did).toEqual(['complained against trustee 2: its share to me does not match its commitments']);
  });

  test('keys whose commitments are not the published ones are refused before anything is posted', async () => {
    const other = newTrusteeKeys(election, 1);
    const { api, posted } = await server({ mine: other, dealer: dealer.commitment });
    await expect(advanceCeremony(api, election, me)).rejects.toThrow(
      'the commitments published for trustee 1 are not those of these keys: use the key file this trustee began the ceremony with',
    );
    expect(posted).toEqual([]);
  });
});

describe('a trustee decrypts with the share a dealer revealed to answer its complaint', () => {
  /**
   * The dealer sealed a share that fails Feldman's check, the trustee complained, and the
   * dealer answered in the clear with a valid share: the complaint is dismissed and the
   * dealer stays in Q (Pedersen's DKG), so the trustee's secret share must be built with
   * the revealed share. Before, the trustee found "no valid share from trustee 2".
   */
  test('the revealed share of a dismissed complaint stands in for the bad sealed one', async () => {
    const g = defaultGroup;
    const trueShare = evaluateShare(dealer.polynomial, 1);
    const badSealed = await sealShare(
      g,
      ceremonyContext(manifestOf(election)),
      { index: 2, keys: dealer.transport },
      { index: 1, publicKey: me.transport.publicKey },
      evaluateShare(dealer.polynomial, 2),
    );
    const commitments = [
      { ...me.commitment, transportKey: me.transport.publicKey },
      { ...dealer.commitment, transportKey: dealer.transport.publicKey },
    ];
    const electionHash = 'ab'.repeat(32);
    const view: CeremonyView = {
      electionId: election.id,
      state: 'done',
      threshold: 2,
      trustees: [1, 2].map((index) => ({
        index,
        id: `u${index}`,
        committed: true,
        dealt: true,
        acknowledged: true,
      })),
      commitments,
      complaints: [{ from: 1, against: 2, answered: true, upheld: false }],
      decided: [{ from: 1, against: 2, upheld: false, revealedShare: trueShare }],
      qualified: [1, 2],
      jointKey: null,
      electionHash,
    } as CeremonyView;
    const encrypted = [3n, 5n].map((r) => ({
      alpha: encodePoint(g, g.mulBase(r)),
      beta: encodePoint(g, g.mulBase(r + 1n)),
    }));
    const posted: { path: string; body: unknown }[] = [];
    const api: ApiCall = async (method, path, body) => {
      if (method === 'POST') {
        posted.push({ path, body });
        return { status: 201, body: { decryption: null, waitingFor: 1 } };
      }
      if (path.endsWith('/ceremony/shares')) {
        return {
          status: 200,
          body: {
            shares: [badSealed],
            transportKeys: { '1': me.transport.publicKey, '2': dealer.transport.publicKey },
          },
        };
      }
      if (path.endsWith('/tally')) return { status: 200, body: { encrypted, final: true } };
      return { status: 200, body: view };
    };

    await expect(decryptAndPost(api, election, me)).resolves.toEqual({ decryption: null, waitingFor: 1 });
    expect(posted.map((p) => p.path)).toEqual([`/elections/${election.id}/decryption-shares`]);
    // The share is right for X_1 computed from the published commitments of Q.
    const X1 = publicShareKey(g, commitments, 1);
    const share = posted[0]!.body as Parameters<typeof checkDecryptionShare>[3];
    expect(checkDecryptionShare(g, Buffer.from(electionHash, 'hex'), encrypted, share, X1)).toBeNull();

    // A revealed share that does not match the dealer's commitments is never used.
    view.decided = [
      { from: 1, against: 2, upheld: false, revealedShare: evaluateShare(dealer.polynomial, 2) },
    ];
    posted.length = 0;
    await expect(decryptAndPost(api, election, me)).rejects.toThrow(
      'no valid share from qualified trustee(s) 2',
    );
    expect(posted).toEqual([]);
  });
});
