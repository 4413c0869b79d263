import { defineScript, reply } from '../shared/redis/scripts';

/** Durable Raft vote: replies whom this node voted for in the term. */
export const recordVoteScript = defineScript('recordVote', {
  keys: 1,
  parse: (r) => reply.string('recordVote', r),
});

/** The leader's fenced claim/renewal: [1, term] written, or [0, newestTerm] fenced. */
export const leaderRenewScript = defineScript('leaderRenew', {
  keys: 2,
  parse: (r) => {
    const a = reply.array('leaderRenew', r, 2);
    return {
      ok: reply.oneOf('leaderRenew', a[0], [0, 1] as const) === 1,
      term: reply.integer('leaderRenew', a[1]),
    };
  },
});
