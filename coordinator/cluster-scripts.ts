import { defineScript, reply } from '../shared/redis/scripts';

/** Durable Raft vote: replies whom this node voted for in the term. */
export const recordVoteScript = defineScript('recordVote', {
  keys: 1,
  parse: (r) => reply.string('recordVote', r),
});

/**
 * The leader's fenced claim/renewal (and its live lease): [1, term] written, or
 * [0, newestTerm] refused (a newer term, or another leader already holds this term).
 */
export const leaderRenewScript = defineScript('leaderRenew', {
  keys: 3,
  parse: (r) => {
    const a = reply.array('leaderRenew', r, 2);
    return {
      ok: reply.oneOf('leaderRenew', a[0], [0, 1] as const) === 1,
      term: reply.integer('leaderRenew', a[1]),
    };
  },
});
