/**
 * The order Jest starts the test files in: the longest first. With 2 workers on 2 cores
 * a long suite started last runs alone at the end (a fresh CI machine has no timings
 * cached, so Jest would order by file size): the containers test alone takes ~5-8 min.
 * Longest-first packs the rest beside it.
 *
 * SECONDS are from a full CI run (`CI=true bash .ci/run`, jest --json, 2 cores); a file
 * not listed weighs by its folder. Only the order changes: every file still runs.
 */
const Sequencer = require('@jest/test-sequencer').default;
const { relative } = require('node:path');

const SECONDS = {
  'e2e/containers.test.ts': 467,
  'browser/room.test.ts': 238,
  'e2e/secret-ballot.test.ts': 160,
  'e2e/stack-hardening.test.ts': 153,
  'browser/secret-ballot.test.ts': 136,
  'browser/web-app.test.ts': 128,
  'e2e/vote-faults.test.ts': 118,
  'e2e/http-fuzz.test.ts': 115,
  'browser/trustee-page.test.ts': 102,
  'e2e/load-cli.test.ts': 101,
  'chaos/short.test.ts': 96,
  'e2e/lifecycle-race.test.ts': 93,
  'e2e/cli-usage.test.ts': 78,
  'e2e/coordinator-election.test.ts': 73,
  'e2e/verify-cli.test.ts': 62,
  'e2e/start-stack.test.ts': 57,
  'e2e/redis-tls.test.ts': 56,
  'e2e/status-cli.test.ts': 43,
  'e2e/openapi-contract.test.ts': 43,
  'integration/serverless-prod.test.ts': 39,
  'integration/auth-login-limits.test.ts': 36,
};

/** Seconds a file not in SECONDS is taken to need, by its folder under test/. */
const BY_FOLDER = { browser: 60, e2e: 20, chaos: 20, integration: 8, unit: 2 };

class LongestFirst extends Sequencer {
  sort(tests) {
    const weight = (t) => {
      const rel = relative(__dirname, t.path).split('\\').join('/');
      return SECONDS[rel] ?? BY_FOLDER[rel.split('/')[0]] ?? 5;
    };
    return [...tests].sort((a, b) => weight(b) - weight(a) || (a.path < b.path ? -1 : 1));
  }
}

module.exports = LongestFirst;
