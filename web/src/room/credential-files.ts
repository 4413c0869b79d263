/**
 * The files an administrator hands credentials out with, made in the browser from the
 * import's answer (the only time the credentials exist in readable form): nothing of
 * them goes back to a server. Pure functions, so the unit tests pin the formats.
 */
import type { ImportedVoter, RollBody, RollVoterInput } from './room-api';

/**
 * One CSV cell (RFC 4180 quoting). Text that came from the roll and starts like a
 * spreadsheet formula gets a leading apostrophe, so opening the file cannot run it
 * (CSV injection); credentials and links are ours and left exactly as they are.
 */
export function csvCell(value: string | number | undefined, fromRoll = true): string {
  let s = value === undefined ? '' : String(value);
  if (fromRoll && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const line = (cells: string[]) => `${cells.join(',')}\r\n`;

/** Every voter with a credential: for the administrator's own records or a hand-out. */
export function credentialsCsv(voters: readonly ImportedVoter[]): string {
  let out = line([
    'voter_id',
    'name',
    'email',
    'external_id',
    'username',
    'group',
    'weight',
    'credential',
    'link',
  ]);
  for (const v of voters) {
    if (!v.credential) continue;
    out += line([
      csvCell(v.voterId, false),
      csvCell(v.name),
      csvCell(v.email),
      csvCell(v.externalId),
      csvCell(v.username),
      csvCell(v.group),
      csvCell(v.weight, false),
      csvCell(v.credential, false),
      csvCell(v.link, false),
    ]);
  }
  return out;
}

/** For a mail merge (one message per voter with an email address): email, name, link. */
export function mailMergeCsv(voters: readonly ImportedVoter[]): string {
  let out = line(['email', 'name', 'link']);
  for (const v of voters) {
    if (!v.link || !v.email) continue;
    out += line([csvCell(v.email), csvCell(v.name), csvCell(v.link, false)]);
  }
  return out;
}

/**
 * What to send for a pasted or chosen roll: a JSON array (or `{voters: [...]}`) goes as
 * voters, anything else as CSV text for the server to parse, so that its line numbers
 * are the file's own.
 */
export function rollBody(text: string): RollBody {
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch (e) {
      throw new Error(`This looks like JSON but does not parse: ${(e as Error).message}`);
    }
    const voters = Array.isArray(parsed) ? parsed : (parsed as { voters?: unknown }).voters;
    if (!Array.isArray(voters)) throw new Error('A JSON roll is an array of voters, or {"voters": [...]}.');
    return { voters: voters as RollVoterInput[] };
  }
  return { csv: text };
}

/** The voting link of a credential: in the fragment, so it never reaches a server or a log. */
export function votingLink(origin: string, credential: string): string {
  return `${origin}/#/c/${credential}`;
}

/** The join link of a code poll. */
export function joinLink(origin: string, code: string): string {
  return `${origin}/#/join/${encodeURIComponent(code)}`;
}
