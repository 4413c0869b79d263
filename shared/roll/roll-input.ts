import { canonicalUsername } from '../auth/user-keys';
import { isValidUsername } from '../auth/user-input';
import { ApiError, badRequest } from '../errors';
import { CsvSyntaxError, parseCsv } from './csv';

/**
 * Validation of a voter-roll import (`POST /elections/{id}/roll`), all in memory and
 * before anything is stored: the import is all or nothing, and every bad line is
 * reported at once with its number (CSV: the file's line, header = 1; JSON: index + 1),
 * so an administrator fixes a 10,000-line file in one round, not one error per try.
 */

/** What the roll keeps of a voter (validated, normalized), as imported and as shown. */
export interface RollVoterFields {
  name?: string;
  email?: string;
  externalId?: string;
  username?: string;
  /** Integer 1..1000: how much this voter's ballot counts. */
  weight: number;
  group?: string;
}

/** One voter as imported. */
export interface RollVoterInput extends RollVoterFields {
  /** The line (CSV) or index + 1 (JSON) it came from: what errors name. */
  line: number;
}

/** One refused line of an import. */
export interface RollLineError {
  line: number;
  field?: string;
  message: string;
}

/** Most errors one answer lists (a wholly wrong file must not answer with megabytes). */
export const MAX_REPORTED_ERRORS = 1000;
/** Most voters one import may hold. */
export const MAX_IMPORT_VOTERS = 100_000;
export const MAX_WEIGHT = 1000;

const TEXT_MAX = 200;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}$/;
/** True when `s` has no control character (C0 or DEL): a roll is printed and mailed. */
const printable = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
};

/** CSV header names → voter fields. */
const CSV_COLUMNS: Record<string, keyof Omit<RollVoterInput, 'line'>> = {
  name: 'name',
  email: 'email',
  external_id: 'externalId',
  username: 'username',
  weight: 'weight',
  group: 'group',
};
const JSON_FIELDS = new Set(['name', 'email', 'externalId', 'username', 'weight', 'group']);

/** `400 invalid_roll` listing the refused lines in `error.details`. */
export function invalidRoll(errors: RollLineError[]): ApiError {
  const shown = errors.slice(0, MAX_REPORTED_ERRORS);
  const more = errors.length > shown.length ? ` (the first ${shown.length} are listed)` : '';
  return new ApiError(
    400,
    'invalid_roll',
    `The roll was not imported: ${errors.length} line${errors.length === 1 ? '' : 's'} refused${more}`,
    shown,
  );
}

/** The uniqueness keys of a voter (email and username case-insensitively). */
export function uniqueKeys(v: Pick<RollVoterInput, 'email' | 'externalId' | 'username'>): string[] {
  const keys: string[] = [];
  if (v.email !== undefined) keys.push(`e:${v.email.toLowerCase()}`);
  if (v.externalId !== undefined) keys.push(`x:${v.externalId}`);
  if (v.username !== undefined) keys.push(`u:${canonicalUsername(v.username)}`);
  return keys;
}

/** What a uniqueness key names, for messages. */
export function uniqueField(key: string): 'email' | 'externalId' | 'username' {
  return key.startsWith('e:') ? 'email' : key.startsWith('x:') ? 'externalId' : 'username';
}

/** Checks one voter's raw fields (strings or, from JSON, anything); pushes what is wrong. */
function checkVoter(
  line: number,
  raw: Record<string, unknown>,
  errors: RollLineError[],
): RollVoterInput | null {
  const before = errors.length;
  const fail = (field: string, message: string) => errors.push({ line, field, message });
  const text = (field: 'name' | 'email' | 'externalId' | 'group'): string | undefined => {
    const v = raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      fail(field, `${field} must be text`);
      return undefined;
    }
    const t = v.trim();
    if (t === '') return undefined;
    if (t.length > TEXT_MAX) fail(field, `${field} is longer than ${TEXT_MAX} characters`);
    else if (!printable(t)) fail(field, `${field} contains control characters`);
    return t;
  };
  const name = text('name');
  const email = text('email');
  const externalId = text('externalId');
  const group = text('group');
  if (email !== undefined && !EMAIL.test(email))
    fail('email', `"${email.slice(0, 80)}" is not an email address`);
  let username: string | undefined;
  const u = raw['username'];
  if (u !== undefined && u !== null && !(typeof u === 'string' && u.trim() === '')) {
    if (!isValidUsername(typeof u === 'string' ? u.trim() : u)) {
      fail('username', 'username must be 3-64 characters of A-Z a-z 0-9 _ . -');
    } else username = (u as string).trim();
  }
  let weight = 1;
  const w = raw['weight'];
  if (w !== undefined && w !== null && w !== '') {
    const n = typeof w === 'string' && /^\s*\d{1,7}\s*$/.test(w) ? Number(w) : w;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_WEIGHT) {
      fail('weight', `weight must be an integer from 1 to ${MAX_WEIGHT}`);
    } else weight = n;
  }
  if (name === undefined && email === undefined && externalId === undefined && username === undefined) {
    errors.push({ line, message: 'a voter needs a name, email, external_id or username' });
  }
  if (errors.length > before) return null;
  return {
    line,
    ...(name === undefined ? {} : { name }),
    ...(email === undefined ? {} : { email }),
    ...(externalId === undefined ? {} : { externalId }),
    ...(username === undefined ? {} : { username }),
    weight,
    ...(group === undefined ? {} : { group }),
  };
}

function fromJson(voters: unknown, errors: RollLineError[]): RollVoterInput[] {
  if (!Array.isArray(voters))
    throw badRequest('voters must be an array of voter objects', { field: 'voters' });
  if (voters.length > MAX_IMPORT_VOTERS) {
    throw badRequest(`An import holds at most ${MAX_IMPORT_VOTERS} voters`, { field: 'voters' });
  }
  const out: RollVoterInput[] = [];
  voters.forEach((v, i) => {
    const line = i + 1;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      errors.push({ line, message: 'each voter must be an object' });
      return;
    }
    const unknown = Object.keys(v).filter((k) => !JSON_FIELDS.has(k));
    for (const field of unknown)
      errors.push({ line, field, message: `unknown field "${field.slice(0, 40)}"` });
    const ok = checkVoter(line, v as Record<string, unknown>, errors);
    if (ok && unknown.length === 0) out.push(ok);
  });
  return out;
}

function fromCsv(csv: unknown, errors: RollLineError[]): RollVoterInput[] {
  if (typeof csv !== 'string') throw badRequest('csv must be the file as text', { field: 'csv' });
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(csv);
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw invalidRoll([{ line: err.line, message: err.message }]);
    throw err;
  }
  const [header, ...rows] = records;
  if (!header) throw invalidRoll([{ line: 1, message: 'the file is empty: it needs a header row' }]);
  if (rows.length > MAX_IMPORT_VOTERS) {
    throw badRequest(`An import holds at most ${MAX_IMPORT_VOTERS} voters`, { field: 'csv' });
  }
  const columns: (keyof Omit<RollVoterInput, 'line'>)[] = [];
  const headerErrors: RollLineError[] = [];
  for (const raw of header.fields) {
    const name = raw.trim().toLowerCase();
    const col = CSV_COLUMNS[name];
    if (!col) {
      headerErrors.push({
        line: header.line,
        message: `unknown column "${raw.slice(0, 40)}" (columns: ${Object.keys(CSV_COLUMNS).join(', ')})`,
      });
    } else if (columns.includes(col)) {
      headerErrors.push({ line: header.line, message: `column "${name}" appears twice` });
    }
    columns.push(col ?? 'name');
  }
  if (headerErrors.length > 0) throw invalidRoll(headerErrors);
  const out: RollVoterInput[] = [];
  for (const row of rows) {
    if (row.fields.length !== columns.length) {
      errors.push({
        line: row.line,
        message: `${row.fields.length} fields where the header has ${columns.length}`,
      });
      continue;
    }
    const raw: Record<string, unknown> = {};
    columns.forEach((c, i) => {
      raw[c] = row.fields[i];
    });
    const ok = checkVoter(row.line, raw, errors);
    if (ok) out.push(ok);
  }
  return out;
}

/**
 * The voters of an import body `{voters:[...]}` or `{csv:"..."}`, validated, with
 * duplicates inside the import refused (email, external id, username). Throws `400
 * invalid_request` for a body of the wrong shape and `400 invalid_roll` (with every
 * bad line) otherwise. Duplicates against the stored roll are checked where it is
 * stored, atomically with the write.
 */
export function parseRollImport(body: unknown): RollVoterInput[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Send a JSON body {voters:[...]} or {csv:"..."}');
  }
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => k !== 'voters' && k !== 'csv');
  if (extra.length > 0) throw badRequest(`Unknown field "${extra[0]!.slice(0, 40)}"`, { field: extra[0] });
  if ((b['voters'] === undefined) === (b['csv'] === undefined)) {
    throw badRequest('Send exactly one of voters (JSON array) or csv (text with a header row)');
  }
  const errors: RollLineError[] = [];
  const voters = b['voters'] !== undefined ? fromJson(b['voters'], errors) : fromCsv(b['csv'], errors);
  const seen = new Map<string, number>();
  for (const v of voters) {
    for (const key of uniqueKeys(v)) {
      const first = seen.get(key);
      if (first === undefined) seen.set(key, v.line);
      else {
        const field = uniqueField(key);
        errors.push({ line: v.line, field, message: `duplicate ${field}: also on line ${first}` });
      }
    }
  }
  if (errors.length > 0) throw invalidRoll(errors.sort((a, b) => a.line - b.line));
  if (voters.length === 0) throw invalidRoll([{ line: 1, message: 'the roll lists no voter' }]);
  return voters;
}

/**
 * The body limit of `POST /elections/{id}/roll` (the one route above the usual 64 KiB):
 * a 10,000-voter CSV with names and emails is ~0.5 MB; 6 MB is a synchronous Lambda's
 * own limit.
 */
export const MAX_ROLL_BODY_BYTES = 5 * 1024 * 1024;
