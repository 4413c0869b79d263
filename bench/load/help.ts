/** `npm run load -- --help`: what the load generator does, its flags and its exit status. */
export const HELP = `quorumvote load generator

Usage:
  npm run load -- --voters N --rate R --duration D [options]
  node --import tsx bench/load.ts --voters N --rate R --duration D [options]

Creates an election with --options options and opens it (or reuses --election), mints
one token per synthetic voter, and has each voter vote once, on a steady schedule of R
first attempts per second. Sending stops after D seconds or when all N voters have
voted, whichever comes first (so min(N, R x D) votes are sent). Then it waits until
every accepted vote is finalized (or --finalize-timeout passes) and prints a summary.

LOCAL ONLY: tokens are minted with the local identity provider's signing key
(<key dir>/signing-key.json, the one \`npm start\` uses), so they verify only on a stack
that shares that key. --url and --lambda-url must be loopback addresses; nothing else
is ever contacted.

Required:
  --voters N              distinct voters, each votes once (1 to 1000000)
  --rate R                first attempts per second (0.1 to 10000)
  --duration D            stop sending after D seconds (0.1 to 86400)

Options:
  --election ID           reuse this open election (its options are read) instead of
                          creating one
  --options K             options on the created election (2 to 64; default 3)
  --via http|invoke       submit over HTTP (default) or by invoking the votesSubmit
                          Lambda directly (serverless-offline's invoke API)
  --url URL               the HTTP API (default http://127.0.0.1:3000); also used to
                          set up the election and read results and the audit log
  --lambda-url URL        the Lambda invoke API (default http://127.0.0.1:3002)
  --function NAME         the function to invoke (default quorumvote-local-votesSubmit)
  --key-dir DIR           folder of the signing key (default $JWT_KEY_DIR or .local/keys;
                          JWT_PRIVATE_JWK, when set, wins, as for the stack)
  --max-in-flight K       submissions in flight at most (default 256); when reached,
                          sends wait, and the run falls behind its schedule
  --timeout S             per-request timeout in seconds (default 10)
  --retry-for S           keep retrying a vote's 503 / timeout / network error for up
                          to S seconds after its first attempt (default 30)
  --finalize-timeout S    wait at most S seconds for accepted votes to be decided
                          (default 60)
  --report FILE           write a self-contained HTML report with charts of throughput
                          and latency over time
  --json FILE             write the summary as JSON
  -h, --help              this text

What is measured:
  submit latency          first attempt to the final answer, retries included (202s)
  submit -> finalized     first attempt to the vote's entry in the audit log (its
                          finalizedAt, on the finalizing coordinator's synced clock)
  Errors are votes whose final answer was not 202, by "<status> <code>"; 503s,
  timeouts and network errors are retried with the same Idempotency-Key first.

Progress: one redrawn line on a terminal (stderr), plain lines every few seconds
otherwise. The summary goes to stdout. Ctrl-C once stops sending and waits for what
was accepted; twice skips the wait; three times quits.

Exit status: 0 done; 1 the run failed (stack unreachable, key not trusted, nothing
accepted, or accepted votes still pending after --finalize-timeout); 2 bad arguments.

Example:
  npm run load -- --voters 2000 --rate 100 --duration 30 --report load.html
`;
