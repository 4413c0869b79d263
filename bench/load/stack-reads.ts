/**
 * What a load run reads from the stack: that it trusts our signing key, the election
 * to vote in (created and opened, or reused), the results and the audit log.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SIGNING_KEY_FILE, type SigningKey, loadSigningKey } from '../../shared/auth/keys';
import { loadSettings } from '../../shared/settings/load';
import { RunError } from './errors';
import { type Http, explain } from './http-client';
import type { LoadOptions } from './options';
import type { Vote } from './submitters';

export interface ElectionInfo {
  id: string;
  options: string[];
  partitions: number;
}

export async function checkKey(o: LoadOptions, http: Http): Promise<SigningKey> {
  const keyDir = resolve(o.keyDir);
  const fromEnv = (loadSettings().JWT_PRIVATE_JWK ?? '').trim() !== '';
  // Asking for the JWKS first also makes a fresh stack create its key (it does so on first use).
  const jwks = await http.json('GET', '/.well-known/jwks.json', undefined);
  if (jwks.status !== 200) throw new RunError(`GET /.well-known/jwks.json answered ${explain(jwks)}`);
  // Never let loadSigningKey generate a key of our own: nobody would trust it.
  if (!fromEnv && !existsSync(join(keyDir, SIGNING_KEY_FILE))) {
    throw new RunError(
      `no signing key at ${join(keyDir, SIGNING_KEY_FILE)}: point --key-dir or JWT_KEY_DIR at the ` +
        `key folder of the stack at ${o.url} (npm start uses .local/keys in the repository)`,
    );
  }
  const key = loadSigningKey({ keyDir });
  const kids = ((jwks.body['keys'] as { kid?: string }[] | undefined) ?? []).map((k) => k.kid);
  if (!kids.includes(key.kid)) {
    throw new RunError(
      `the stack at ${o.url} does not trust the key in ${fromEnv ? 'JWT_PRIVATE_JWK' : keyDir} ` +
        `(kid ${key.kid}; it publishes ${kids.join(', ') || 'none'}): point --key-dir or JWT_KEY_DIR ` +
        `at the key folder the stack uses`,
    );
  }
  return key;
}

export async function prepareElection(
  o: LoadOptions,
  http: Http,
  admin: string,
  runId: string,
): Promise<ElectionInfo> {
  const info = (b: Record<string, unknown>): ElectionInfo => ({
    id: String(b['id']),
    options: ((b['options'] as { id: string }[] | undefined) ?? []).map((x) => x.id),
    partitions: Number(b['partitions'] ?? 0),
  });
  if (o.election) {
    const r = await http.json('GET', `/elections/${o.election}`, admin);
    if (r.status === 404) throw new RunError(`election ${o.election} does not exist at ${o.url}`);
    if (r.status !== 200) throw new RunError(`GET /elections/${o.election} answered ${explain(r)}`);
    const status = String(r.body['status']);
    if (status !== 'open') {
      throw new RunError(
        `election ${o.election} is ${status}, not open` +
          (status === 'draft'
            ? `: open it first (POST /elections/${o.election}/open) or omit --election`
            : ''),
      );
    }
    if (r.body['restricted'] === true) {
      throw new RunError(
        `election ${o.election} only takes votes from its voter list, which the synthetic voters are not on`,
      );
    }
    const e = info(r.body);
    if (e.options.length === 0) throw new RunError(`election ${o.election} has no options`);
    return e;
  }
  const options = Array.from({ length: o.options }, (_, i) => ({
    id: `opt${i + 1}`,
    label: `Option ${i + 1}`,
  }));
  const created = await http.json('POST', '/elections', admin, {
    title: `Load test ${runId}: ${o.voters} voters at ${o.rate}/s`,
    options,
  });
  if (created.status !== 201) throw new RunError(`POST /elections answered ${explain(created)}`);
  const id = String(created.body['id']);
  const opened = await http.json('POST', `/elections/${id}/open`, admin);
  if (opened.status !== 200) throw new RunError(`POST /elections/${id}/open answered ${explain(opened)}`);
  return info(opened.body);
}

export interface ResultsView {
  decided: number;
  finalized: number;
  rejected: number;
}

export async function readResults(
  http: Http,
  token: string,
  electionId: string,
): Promise<ResultsView | undefined> {
  try {
    const r = await http.json('GET', `/elections/${electionId}/results`, token);
    if (r.status !== 200) return undefined;
    const finalized = Number(r.body['finalized'] ?? 0);
    const rejected = Number(r.body['rejected'] ?? 0);
    return { decided: finalized + rejected, finalized, rejected };
  } catch {
    return undefined;
  }
}

/** Reads the whole audit log and records the decision of each of our votes. Returns how many matched. */
export async function readAudit(
  http: Http,
  token: string,
  electionId: string,
  byId: Map<string, Vote>,
): Promise<number> {
  let cursor = '';
  let matched = 0;
  for (let page = 0; page < 100_000; page++) {
    const q = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await http.json('GET', `/elections/${electionId}/audit?${q}`, token);
    if (r.status !== 200) throw new RunError(`GET /elections/${electionId}/audit answered ${explain(r)}`);
    for (const e of (r.body['entries'] as Record<string, string>[] | undefined) ?? []) {
      const v = e['voteId'] ? byId.get(e['voteId']) : undefined;
      if (!v) continue;
      // voteId and finalizedAt: the admin's view of the log (the public one names neither).
      v.decidedAt = Date.parse(e['finalizedAt'] ?? '');
      v.outcome = e['outcome'] === 'rejected' ? 'rejected' : 'counted';
      matched++;
    }
    const next = r.body['nextCursor'];
    if (typeof next !== 'string' || next === '') break;
    cursor = next;
  }
  return matched;
}
