/**
 * `npm run trustee -- <ceremony|decrypt> --election <id> --key-file F [--url URL]
 * [--token T | --username U --password P]`: a trustee's device for a secret-ballot
 * election (BALLOTS.md §3, §5).
 *
 * - `ceremony`: creates this trustee's secret polynomial and transport key (written to
 *   the key file, mode 0600, before anything is published), publishes the commitments
 *   and proofs, seals a share for every other trustee, opens and checks the shares it
 *   receives (acknowledges, or complains against a bad dealer), answers complaints
 *   against itself, and waits until the admin finishes the ceremony.
 * - `decrypt`: once the election is closed and counted, combines its secret share from
 *   the relayed shares and posts its decryption share with proofs.
 *
 * Login: `--token` / `QV_TOKEN`, else `--username` / `--password` (`QV_USERNAME`,
 * `QV_PASSWORD`) through POST /auth/token. Exit 0 done, 1 failed, 2 bad usage.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { apiLogin } from './api-login';
import { UsageError, numberFlag, parseFlags, runCli, stringFlag } from './cli';
import { loadSettings } from '../shared/settings/load';
import { apiUrl } from '../shared/settings/schema';
import type { Election } from '../shared/elections/model';
import { type ApiCall, expectStatus, fetchApi } from '../shared/secret/api-call';
import {
  type TrusteeKeys,
  decryptAndPost,
  newTrusteeKeys,
  runCeremony,
} from '../shared/secret/trustee-client';
import { KeyFileError, parseTrusteeKeys, serializeTrusteeKeys } from '../shared/secret/key-files';

export interface TrusteeOptions {
  command: 'ceremony' | 'decrypt';
  electionId: string;
  keyFile: string;
  url: string;
  token: string | undefined;
  username: string | undefined;
  password: string | undefined;
  timeoutMs: number;
}

function usage(): string {
  return [
    'Usage: npm run trustee -- <ceremony|decrypt> --election <id> --key-file F [--url URL]',
    '                          [--token T | --username U --password P] [--timeout-s N]',
    '',
    '  ceremony     take part in the key ceremony (keys written to F, mode 0600)',
    "  decrypt      post this trustee's decryption share of the closed election's tally",
    '  --url URL    API base URL (default $QV_URL, else http://127.0.0.1:$HTTP_PORT, 3000)',
    '  --token T    bearer token of the trustee (default $QV_TOKEN)',
    '  --username U / --password P  log in instead (default $QV_USERNAME / $QV_PASSWORD)',
    '  --timeout-s N  how long to wait for the other trustees (default 600)',
    '  -h, --help   this text',
    '',
    'Exit code: 0 done, 1 failed, 2 bad usage.',
  ].join('\n');
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): TrusteeOptions {
  const flags = parseFlags(
    argv,
    {
      election: { type: 'string' },
      'key-file': { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      'timeout-s': { type: 'string' },
    },
    1,
  );
  const command = flags.positionals[0];
  if (command === undefined) throw new UsageError('missing command');
  if (command !== 'ceremony' && command !== 'decrypt') throw new UsageError(`unknown command ${command}`);
  const settings = loadSettings(env);
  const o: TrusteeOptions = {
    command,
    electionId: stringFlag(flags, 'election') ?? '',
    keyFile: stringFlag(flags, 'key-file') ?? '',
    url: (stringFlag(flags, 'url') ?? apiUrl(settings)).replace(/\/+$/, ''),
    token: stringFlag(flags, 'token') ?? settings.QV_TOKEN,
    username: stringFlag(flags, 'username') ?? settings.QV_USERNAME,
    password: stringFlag(flags, 'password') ?? settings.QV_PASSWORD,
    timeoutMs: (numberFlag(flags, 'timeout-s', { above: 0 }) ?? 600) * 1000,
  };
  if (!o.electionId) throw new UsageError('--election is required');
  if (!o.keyFile) throw new UsageError('--key-file is required');
  if (!o.token && !(o.username && o.password))
    throw new UsageError('give --token or --username and --password');
  return o;
}

/** Reads the key file (checked: shared/secret/key-files.ts), or (ceremony only) creates it with mode 0600. */
function loadKeys(o: TrusteeOptions, election: Election, sub: string): TrusteeKeys {
  const me = election.trustees?.find((t) => t.id === sub);
  if (existsSync(o.keyFile)) {
    try {
      return parseTrusteeKeys(readFileSync(o.keyFile, 'utf8'), {
        electionId: election.id,
        ...(me ? { trustee: me.index } : {}),
      });
    } catch (err) {
      if (err instanceof KeyFileError) throw new Error(`${o.keyFile}: ${err.message}`);
      throw err;
    }
  }
  if (o.command !== 'ceremony') throw new Error(`no key file ${o.keyFile}: run the ceremony with it first`);
  if (!me) throw new Error(`user ${sub} is not a trustee of election ${election.id}`);
  const keys = newTrusteeKeys(election, me.index);
  writeFileSync(o.keyFile, serializeTrusteeKeys(keys), { mode: 0o600, flag: 'wx' });
  chmodSync(o.keyFile, 0o600);
  return keys;
}

/** Runs one command; resolves with a line to print. */
export async function runTrustee(o: TrusteeOptions, api?: ApiCall, sub?: string): Promise<string> {
  const who = api && sub ? { token: '', sub } : await apiLogin(o);
  const call = api ?? fetchApi(o.url, who.token);
  const election = expectStatus(
    await call('GET', `/elections/${encodeURIComponent(o.electionId)}`),
    'election',
    200,
  ).body as Election;
  const keys = loadKeys(o, election, who.sub);
  if (o.command === 'ceremony') {
    const state = await runCeremony(call, election, keys, { timeoutMs: o.timeoutMs });
    if (state !== 'done') throw new Error(`the ceremony ended in state ${state}`);
    return `Ceremony done for election ${election.id}: trustee ${keys.trustee}, keys in ${o.keyFile}`;
  }
  const r = await decryptAndPost(call, election, keys);
  return r.decryption
    ? `Decryption share posted; totals published: ${JSON.stringify(r.decryption.totals)}`
    : `Decryption share posted; waiting for ${r.waitingFor} more trustee(s)`;
}

if (require.main === module) {
  runCli({
    parse: (argv) => parseArgs(argv),
    usage,
    failurePrefix: 'trustee: ',
    run: async (o) => {
      console.log(await runTrustee(o));
      return 0;
    },
  });
}
