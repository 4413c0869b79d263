/**
 * The syntax of the public identifiers, with no domain code attached: the election
 * model, the vote read and the WebSocket topic parser all check ids against these, so
 * a topic and an HTTP route accept exactly the same ids.
 */

/** An election id: `el` + 4-40 lowercase letters and digits. */
export const electionIdPattern = /^el[a-z0-9]{4,40}$/;

/** A vote id, `<election>.<partition>.<stream id>`; groups: election, partition, stream id. */
export const voteIdPattern = /^(el[a-z0-9]{4,40})\.(\d{1,4})\.(\d{1,20}-\d{1,20})$/;
