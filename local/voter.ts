/**
 * `npm run voter -- <cast|challenge> --election <id> --option <optionId>... --key-file F
 * [--url URL] [--token T | --username U --password P]`: a voter's device for a
 * secret-ballot election (BALLOTS.md §4), for terminals and scripts; the web app does
 * the same in the browser.
 *
 * The ballot is encrypted, proven and signed here; the server sees ciphertexts, proofs
 * and the signature only. The voter's Ed25519 key is kept in the key file (mode 0600,
 * created on first use, one key per election).
 *
 * - `cast`: casts the ballot and prints the vote id and the tracking code, which the
 *   voter can look up in the election record (`GET /elections/{id}/record`).
 * - `challenge`: a Benaloh challenge: makes a ballot for the choice and publishes it
 *   with its opening instead of casting it (it is spoiled, never counted), so anyone can
 *   check the device encrypted what was chosen; prints its tracking code.
 *
 * Exit 0 done, 1 failed, 2 bad usage.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { generateVoterKey, toHex } from '../shared/ballots';
import type { Election } from '../shared/elections/model';
import { type ApiCall, expectStatus, fetchApi } from '../shared/secret/api-call';
import { KeyFileError, parseVoterKey, serializeVoterKey } from '../shared/secret/key-files';
import { castBallot, challengeBallot, makeBallot } from '../shared/secret/voter-client';
import { loadSettings } from '../shared/settings/load';
import { apiUrl } from '../shared/settings/schema';
import { apiLogin } from './api-login';
import { UsageError, parseFlags, runCli, stringFlag } from './cli';

export interface VoterOptions {
  command: 'cast' | 'challenge';
  electionId: string;
  /** Chosen option ids (one for a single-choice election). */
  options: string[];
  keyFile: string;
  url: string;
  token: string | undefined;
  username: string | undefined;
  password: string | undefined;
}

function usage(): string {
  return [
    'Usage: npm run voter -- <cast|challenge> --election <id> --option <optionId> [--option …]',
    '                        --key-file F [--url URL] [--token T | --username U --password P]',
    '',
    '  cast         encrypt, prove and sign the choice here, cast it, print the tracking code',
    '  challenge    make the same kind of ballot but publish it with its opening (spoiled,',
    '               never counted) so anyone can check it encrypts the choice',
    '  --option ID  a chosen option (repeat for a multiple-choice election)',
    '  --key-file F the voter key for this election (created with mode 0600 on first use)',
    '  --url URL    API base URL (default $QV_URL, else http://127.0.0.1:$HTTP_PORT, 3000)',
    '  --token T    bearer token of the voter (default $QV_TOKEN)',
    '  --username U / --password P  log in instead (default $QV_USERNAME / $QV_PASSWORD)',
    '  -h, --help   this text',
    '',
    'Exit code: 0 done, 1 failed, 2 bad usage.',
  ].join('\n');
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): VoterOptions {
  const flags = parseFlags(
    argv,
    {
      election: { type: 'string' },
      option: { type: 'string', multiple: true },
      'key-file': { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
    },
    1,
  );
  const command = flags.positionals[0];
  if (command === undefined) throw new UsageError('missing command');
  if (command !== 'cast' && command !== 'challenge') throw new UsageError(`unknown command ${command}`);
  const settings = loadSettings(env);
  const chosen = flags.values['option'];
  const o: VoterOptions = {
    command,
    electionId: stringFlag(flags, 'election') ?? '',
    options: Array.isArray(chosen) ? chosen.filter((x): x is string => typeof x === 'string') : [],
    keyFile: stringFlag(flags, 'key-file') ?? '',
    url: (stringFlag(flags, 'url') ?? apiUrl(settings)).replace(/\/+$/, ''),
    token: stringFlag(flags, 'token') ?? settings.QV_TOKEN,
    username: stringFlag(flags, 'username') ?? settings.QV_USERNAME,
    password: stringFlag(flags, 'password') ?? settings.QV_PASSWORD,
  };
  if (!o.electionId) throw new UsageError('--election is required');
  if (o.options.length === 0) throw new UsageError('--option is required');
  if (!o.keyFile) throw new UsageError('--key-file is required');
  if (!o.token && !(o.username && o.password))
    throw new UsageError('give --token or --username and --password');
  return o;
}

/** The voter's key for this election: read from the key file (checked), or made and saved (0600). */
function voterKey(keyFile: string, electionId: string): Uint8Array {
  if (existsSync(keyFile)) {
    try {
      return parseVoterKey(readFileSync(keyFile, 'utf8'), electionId);
    } catch (err) {
      if (err instanceof KeyFileError) throw new Error(`${keyFile}: ${err.message}`);
      throw err;
    }
  }
  const { secretKey } = generateVoterKey();
  writeFileSync(keyFile, serializeVoterKey(electionId, toHex(secretKey)), { mode: 0o600, flag: 'wx' });
  chmodSync(keyFile, 0o600);
  return secretKey;
}

/** 0/1 per option of the election, from the chosen option ids; unknown ids are an error. */
export function selectionsFor(election: Election, chosen: string[]): number[] {
  const ids = election.options.map((x) => x.id);
  const unknown = chosen.filter((c) => !ids.includes(c));
  if (unknown.length > 0)
    throw new Error(`not an option of this election: ${unknown.join(', ')} (options: ${ids.join(', ')})`);
  return ids.map((id) => (chosen.includes(id) ? 1 : 0));
}

/** Runs one command; resolves with the lines to print. */
export async function runVoter(o: VoterOptions, api?: ApiCall): Promise<string> {
  const call = api ?? fetchApi(o.url, (await apiLogin(o)).token);
  const election = expectStatus(
    await call('GET', `/elections/${encodeURIComponent(o.electionId)}`),
    'election',
    200,
  ).body as Election;
  if (election.ballot !== 'secret')
    throw new Error(`election ${election.id} is not a secret-ballot election`);
  const selections = selectionsFor(election, o.options);
  const { ballot, opening } = makeBallot(election, selections, voterKey(o.keyFile, election.id));
  if (o.command === 'challenge') {
    await challengeBallot(call, election, ballot, opening);
    return [
      `Challenged ballot published as spoiled (never counted): tracking code ${ballot.tracker}`,
      'Anyone can check in the election record that it encrypts your choice. Cast a fresh ballot to vote.',
    ].join('\n');
  }
  const { voteId, tracker } = await castBallot(call, election, ballot);
  return [
    `Ballot cast: vote id ${voteId}`,
    `Tracking code ${tracker}: find it in GET /elections/${election.id}/record (it says nothing about your choice).`,
  ].join('\n');
}

if (require.main === module) {
  runCli({
    parse: (argv) => parseArgs(argv),
    usage,
    failurePrefix: 'voter: ',
    run: async (o) => {
      console.log(await runVoter(o));
      return 0;
    },
  });
}
