/**
 * `npm run verify -- <electionId> [--receipt R[:NONCE] ...] [--heads FILE]
 * [--url http://127.0.0.1:3000] [--token T] [--json]`: checks an election's audit log
 * without trusting the server.
 *
 * It fetches the audit log page by page and the published results over the public
 * HTTP API, then (shared/votes/verify.ts) re-checks every hash link of every
 * partition, checks each chain against the published chain heads (those of the results,
 * or of an earlier `/results` saved to FILE: a log rewritten since is caught), recomputes
 * the totals from the entries and compares them with the results, flags receipts or
 * ballot ids carried by two entries, and looks up each given receipt (with the voter's
 * nonce: also that the entry carrying it is the one it commits to). While an election is still being counted
 * the results can move between two reads, so the results are read before and after
 * the log and the pair is retried until they agree.
 *
 * Any role may read the audit log. Without `--token` (or `QV_TOKEN`), an auditor token
 * is minted with the local signing key (`JWT_KEY_DIR`, default `.local/keys`, or
 * `JWT_PRIVATE_JWK`) — for a local stack only; it is never created here.
 *
 * Exit code 0 when everything verifies, 1 when anything does not (or the API cannot be
 * read), 2 on bad usage.
 */
import { UsageError, parseFlags, runCli, stringFlag } from './cli';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SIGNING_KEY_FILE } from '../shared/auth/keys';
import type { ResetRecord } from '../shared/elections/store';
import { mintToken } from '../shared/auth/tokens';
import { loadSettings } from '../shared/settings/load';
import { apiUrl } from '../shared/settings/schema';
import type { AuditEntry, ChainHead } from '../shared/votes/read';
import { type ReceiptCheck, type VerifyReport, verifyAudit } from '../shared/votes/verify';
import { renderSecret, verifySecretElection } from './verify-record';

export interface VerifyOptions {
  electionId: string;
  receipts: ReceiptCheck[];
  /** Chain heads published earlier (a saved `/results` body or its `chainHeads`), from --heads. */
  heads?: Record<string, ChainHead> | null;
  url: string;
  token: string | undefined;
  json: boolean;
  /** How many times to re-read while the results move under the log (default 5). */
  attempts: number;
}

function usage(): string {
  return [
    'Usage: npm run verify -- <electionId> [--receipt R[:NONCE] ...] [--heads FILE] [--url URL] [--token T] [--json]',
    '',
    '  --receipt R  a voter receipt to look up in the audit log (repeatable); R:NONCE also',
    '               checks that the entry carrying it is the ballot it commits to',
    '  --heads FILE chain heads published earlier (a saved /results JSON): the log must extend them',
    '  --url URL    API base URL (default $QV_URL, else http://127.0.0.1:$HTTP_PORT, 3000)',
    '  --token T    bearer token of any role (default $QV_TOKEN, else an auditor token',
    '               minted with the local signing key in $JWT_KEY_DIR or .local/keys)',
    '  --json       print the report as JSON',
    '  -h, --help   this text',
    '',
    'Exit code: 0 verified, 1 not verified or API unreachable, 2 bad usage.',
  ].join('\n');
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): VerifyOptions {
  const flags = parseFlags(
    argv,
    {
      receipt: { type: 'string', multiple: true },
      heads: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
    },
    1,
  );
  const settings = loadSettings(env);
  const electionId = flags.positionals[0];
  if (!electionId) throw new UsageError('Give the election id');
  const heads = stringFlag(flags, 'heads');
  const url = (stringFlag(flags, 'url') ?? apiUrl(settings)).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new UsageError(`--url must be an http(s) URL, got ${url}`);
  return {
    electionId,
    receipts: ((flags.values['receipt'] as string[] | undefined) ?? []).map(parseReceipt),
    heads: heads === undefined ? null : readHeads(heads),
    url,
    token: stringFlag(flags, 'token') ?? settings.QV_TOKEN,
    json: flags.values['json'] === true,
    attempts: 5,
  };
}

/** `R` or `R:NONCE` (both hex). */
function parseReceipt(text: string): ReceiptCheck {
  const m = /^([0-9a-f]{64})(?::([0-9a-f]{32}))?$/i.exec(text);
  if (!m)
    throw new UsageError(
      `--receipt must be a 64-digit hex receipt, optionally :NONCE (32 hex digits), got ${text}`,
    );
  return m[2] ? { receipt: m[1]!.toLowerCase(), nonce: m[2].toLowerCase() } : m[1]!.toLowerCase();
}

/** Chain heads from a saved `/results` body (or its bare `chainHeads` object). */
function readHeads(file: string): Record<string, ChainHead> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--heads ${file}: ${(err as Error).message}`);
  }
  const heads = (v as { chainHeads?: unknown })?.chainHeads ?? v;
  const valid =
    !!heads &&
    typeof heads === 'object' &&
    Object.values(heads).every(
      (h) => !!h && typeof h.hash === 'string' && Number.isSafeInteger(h.entries) && h.entries >= 0,
    );
  if (!valid) throw new UsageError(`--heads ${file}: no chainHeads {<partition>: {hash, entries}} in it`);
  return heads as Record<string, ChainHead>;
}

/** An auditor token from the local signing key, or an error saying how to get one. */
async function localAuditorToken(env: NodeJS.ProcessEnv): Promise<string> {
  const keyDir = resolve(env['JWT_KEY_DIR'] ?? '.local/keys');
  const fromEnv = (env['JWT_PRIVATE_JWK'] ?? '').trim() !== '';
  if (!fromEnv && !existsSync(join(keyDir, SIGNING_KEY_FILE))) {
    throw new Error(
      `No --token given and no local signing key at ${join(keyDir, SIGNING_KEY_FILE)}: ` +
        'pass --token (any role may read the audit log) or point JWT_KEY_DIR at the stack’s key folder',
    );
  }
  return mintToken({ sub: 'verify-cli', role: 'auditor' }, { keyDir, ttlS: 600 });
}

interface Published {
  status: string;
  totals: Record<string, number>;
  finalized: number;
  rejected: number;
  pending: number;
  final: boolean;
  hidden?: boolean;
  chainHeads?: Record<string, ChainHead>;
}

async function getJson<T>(url: string, token: string): Promise<T> {
  let res: Response;
  for (let attempt = 1; ; attempt++) {
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(15000),
      });
    } catch (err) {
      throw new Error(`Cannot reach ${url}: ${(err as Error).message}`);
    }
    // Reads are rate-limited per user (a long log is many pages): wait as told, go on.
    if (res.status !== 429 || attempt >= 30) break;
    const wait = Number(res.headers.get('retry-after') ?? 1);
    await new Promise((done) => setTimeout(done, Math.min(10, Math.max(1, wait)) * 1000));
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } })?.error;
    throw new Error(`${url} answered ${res.status} ${e?.code ?? ''}: ${e?.message ?? text.slice(0, 200)}`);
  }
  return body as T;
}

async function fetchAuditLog(
  o: VerifyOptions,
  token: string,
): Promise<{
  entries: AuditEntry[];
  partitions: number;
  pages: number;
  resets: ResetRecord[];
  hidden: boolean;
}> {
  const base = `${o.url}/elections/${encodeURIComponent(o.electionId)}/audit?limit=1000`;
  const entries: AuditEntry[] = [];
  let partitions = 0;
  let resets: ResetRecord[] = [];
  let cursor: string | null = '';
  let pages = 0;
  let hidden = false;
  while (cursor !== null) {
    if (++pages > 100000) throw new Error('The audit log does not end (cursor loops)');
    const page: {
      entries: AuditEntry[];
      nextCursor: string | null;
      partitions: number;
      resets?: ResetRecord[];
      hidden?: boolean;
    } = await getJson(`${base}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
    partitions = page.partitions;
    resets = page.resets ?? resets;
    hidden ||= page.hidden === true;
    entries.push(...page.entries);
    if (page.nextCursor !== null && page.nextCursor === cursor)
      throw new Error('The audit log cursor does not move');
    cursor = page.nextCursor;
  }
  return { entries, partitions, pages, resets, hidden };
}

const sameCounts = (a: Published, b: Published): boolean =>
  a.finalized === b.finalized &&
  a.rejected === b.rejected &&
  JSON.stringify(a.totals) === JSON.stringify(b.totals) &&
  JSON.stringify(a.chainHeads) === JSON.stringify(b.chainHeads);

export interface VerifyOutcome {
  electionId: string;
  url: string;
  title?: string;
  electionStatus: string;
  partitions: number;
  pages: number;
  published: Published;
  /**
   * Every reset of the election (recorded by the server before it erased anything): the
   * log verified here starts after the last one. Reported, not a failure by itself.
   */
  resets: ResetRecord[];
  /** False when the results kept moving while the log was read (still counting). */
  stable: boolean;
  /** True while the election hides its totals: the log is published only at close. */
  hidden: boolean;
  report: VerifyReport;
  ok: boolean;
}

/** Fetches and verifies; throws when the API cannot be read. */
export async function verifyElection(
  o: VerifyOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<VerifyOutcome> {
  const token = o.token ?? (await localAuditorToken(env));
  const id = encodeURIComponent(o.electionId);
  const election = await getJson<{
    id: string;
    title?: string;
    status: string;
    finalChainHeads?: Record<string, ChainHead>;
  }>(`${o.url}/elections/${id}`, token);
  let before = await getJson<Published>(`${o.url}/elections/${id}/results`, token);
  for (let attempt = 1; ; attempt++) {
    const log = await fetchAuditLog(o, token);
    const after = await getJson<Published>(`${o.url}/elections/${id}/results`, token);
    const stable = sameCounts(before, after);
    if (stable || attempt >= o.attempts) {
      // Hidden totals (until close) hide the log too: nothing to check against yet.
      const hidden = log.hidden || after.hidden === true;
      const published = hidden ? null : after;
      const report = verifyAudit(
        o.electionId,
        log.partitions,
        log.entries,
        published,
        o.receipts,
        // Heads saved earlier, else those the election recorded when its result became final.
        hidden ? null : (o.heads ?? election.finalChainHeads ?? null),
      );
      if (hidden) {
        report.problems.push(
          'the election hides its totals until it closes: its audit log is published then',
        );
        report.ok = false;
      }
      return {
        electionId: o.electionId,
        url: o.url,
        ...(election.title === undefined ? {} : { title: election.title }),
        electionStatus: election.status,
        partitions: log.partitions,
        pages: log.pages,
        published: after,
        resets: log.resets,
        stable,
        hidden,
        report,
        ok: report.ok && stable,
      };
    }
    before = after;
  }
}

export function render(v: VerifyOutcome): string {
  const r = v.report;
  const out: string[] = [];
  out.push(`Election ${v.electionId}${v.title ? ` "${v.title}"` : ''} (${v.electionStatus}) at ${v.url}`);
  out.push(
    `Audit log: ${r.entries} entries in ${v.partitions} partitions (${v.pages} page${v.pages === 1 ? '' : 's'}): ` +
      `${r.counted} counted, ${r.rejected} rejected`,
  );
  const chainProblems = r.problems.filter((p) =>
    /hash|link|sequence|does not exist|carried by|appears in|chain/.test(p),
  );
  out.push(
    `Hash chain: ${chainProblems.length === 0 ? 'every link verifies' : `${chainProblems.length} broken`}`,
  );
  const options = [...new Set([...Object.keys(r.totals), ...Object.keys(v.published.totals)])].sort();
  if (v.hidden) {
    out.push('Totals and audit log: hidden by the election until it closes.');
  } else {
    out.push('Totals:             audit log   published');
    const row = (name: string, mine: number, theirs: number) =>
      `  ${name.padEnd(18)} ${String(mine).padStart(9)}   ${String(theirs).padStart(9)}${mine === theirs ? '' : '   MISMATCH'}`;
    for (const opt of options) out.push(row(opt, r.totals[opt] ?? 0, v.published.totals[opt] ?? 0));
    out.push(row('finalized', r.counted, v.published.finalized));
    out.push(row('rejected', r.rejected, v.published.rejected));
  }
  if (v.published.pending > 0)
    out.push(`Note: ${v.published.pending} vote(s) still pending (not in the log yet).`);
  out.push(
    v.published.final ? 'The result is final.' : 'The result is not final yet (election open or counting).',
  );
  if (v.published.chainHeads) {
    const n = Object.keys(v.published.chainHeads).length;
    const bad = chainProblems.filter((p) => /chain head/.test(p)).length;
    out.push(
      `Chain heads: ${bad === 0 ? `the log extends the ${n} published heads` : `${bad} do not match`}`,
    );
  }
  if (v.resets.length === 0) out.push('Resets: none recorded.');
  for (const x of v.resets) {
    out.push(
      `Reset at ${x.at} by ${x.by} (election ${x.status}): erased ${x.finalized} counted and ` +
        `${x.rejected} rejected votes; chain heads then: ${x.heads.map((h) => h || '-').join(' ')}`,
    );
  }
  for (const [receipt, state] of Object.entries(r.receipts)) {
    out.push(`Receipt ${receipt}: ${state === 'missing' ? 'NOT in the audit log' : state}`);
  }
  if (!v.stable)
    out.push('The results kept changing while the log was read: the election is still being counted.');
  if (v.ok) out.push('VERIFIED: the audit log is intact and agrees with the published results.');
  else {
    const n = r.problems.length + (v.stable ? 0 : 1);
    out.push(`NOT VERIFIED: ${n} problem${n === 1 ? '' : 's'}:`);
    for (const p of r.problems) out.push(`  - ${p}`);
    if (!v.stable) out.push('  - results moved during every read; rerun once counting has settled');
  }
  return out.join('\n');
}

if (require.main === module) {
  runCli({
    parse: parseArgs,
    usage,
    failurePrefix: 'NOT VERIFIED: ',
    run: async (o) => {
      // A secret-ballot election is verified from its qv/v1 record (local/verify-record.ts).
      const token = o.token ?? (await localAuditorToken(process.env));
      const e = await getJson<{ ballot?: string }>(
        `${o.url}/elections/${encodeURIComponent(o.electionId)}`,
        token,
      );
      if (e.ballot === 'secret') {
        const s = await verifySecretElection(o.url, o.electionId, token);
        console.log(o.json ? JSON.stringify(s, null, 2) : renderSecret(s));
        return s.ok ? 0 : 1;
      }
      const v = await verifyElection({ ...o, token });
      console.log(o.json ? JSON.stringify(v, null, 2) : render(v));
      return v.ok ? 0 : 1;
    },
  });
}
