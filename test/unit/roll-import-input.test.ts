import { CsvSyntaxError, parseCsv } from '../../shared/roll/csv';
import { parseRollImport } from '../../shared/roll/roll-input';
import { credentialElection, credentialHash, newCredential, votingLink } from '../../shared/roll/credentials';
import { ApiError } from '../../shared/errors';

/**
 * Voter-roll import input (issue 17): the RFC 4180 reader (quotes, CRLF, BOM, line
 * numbers), the validation that reports every bad line at once, and credentials.
 */

function refusal(body: unknown): ApiError {
  try {
    parseRollImport(body);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}
const lines = (e: ApiError) => (e.details as { line: number }[]).map((d) => d.line);

describe('parseCsv (RFC 4180)', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF, and a BOM', () => {
    const text = '\ufeffname,email\r\n"Doe, Jane","j@x.org"\r\n"Say ""hi""",a@b.c\r\n"two\r\nlines",\r\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['name', 'email'] },
      { line: 2, fields: ['Doe, Jane', 'j@x.org'] },
      { line: 3, fields: ['Say "hi"', 'a@b.c'] },
      { line: 4, fields: ['two\r\nlines', ''] },
    ]);
  });

  it('accepts LF and a lone CR, skips empty lines, keeps physical line numbers', () => {
    expect(parseCsv('a,b\n\n1,2\r3,4')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['1', '2'] },
      { line: 4, fields: ['3', '4'] },
    ]);
    expect(parseCsv('a\n"x"')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, fields: ['x'] },
    ]);
    expect(parseCsv('')).toEqual([]);
  });

  it.each([
    ['a,b\n"open,2\n', 2, /never closed/],
    ['a,b\nx"y,2\n', 2, /quote inside an unquoted field/],
    ['a,b\n"x"y,2\n', 2, /after a closing quote/],
  ])('refuses %p at line %p', (text, line, message) => {
    let err: unknown;
    try {
      parseCsv(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CsvSyntaxError);
    expect((err as CsvSyntaxError).line).toBe(line);
    expect((err as CsvSyntaxError).message).toMatch(message);
  });
});

describe('parseRollImport', () => {
  it('a 10,000-line CSV with 3 bad lines is refused with exactly those line numbers', () => {
    const rows = ['name,email,external_id,weight,group'];
    for (let i = 0; i < 10_000; i++) rows.push(`Voter ${i},v${i}@example.org,X${i},${(i % 5) + 1},g${i % 3}`);
    // File lines are index + 1 (header is line 1): voters 1234, 5000 and 9999.
    rows[1235] = 'Bad weight,bw@example.org,XB1,1001,g';
    rows[5001] = 'Bad email,not-an-email,XB2,1,g';
    rows[10_000] = 'Duplicate,v3@example.org,XB3,1,g';
    const err = refusal({ csv: rows.join('\r\n') });
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_roll');
    expect(lines(err)).toEqual([1236, 5002, 10_001]);
    expect(err.details).toEqual([
      { line: 1236, field: 'weight', message: 'weight must be an integer from 1 to 1000' },
      { line: 5002, field: 'email', message: '"not-an-email" is not an email address' },
      { line: 10_001, field: 'email', message: 'duplicate email: also on line 5' },
    ]);
  });

  it('reads columns in any order, defaults the weight to 1, trims, and leaves empty cells out', () => {
    const voters = parseRollImport({ csv: 'Group,EMAIL,name\r\nA, ann@x.org ,Ann\r\n,bob@x.org,\r\n' });
    expect(voters).toEqual([
      { line: 2, name: 'Ann', email: 'ann@x.org', weight: 1, group: 'A' },
      { line: 3, email: 'bob@x.org', weight: 1 },
    ]);
  });

  it('JSON: errors name index + 1 and the field; unknown fields and duplicates (any case) refused', () => {
    const err = refusal({
      voters: [
        { name: 'Ok', email: 'A@x.org' },
        { email: 'a@X.org' },
        { name: 'W', weight: 1.5 },
        { name: 'U', username: 'no spaces allowed' },
        { nickname: 'x', name: 'N' },
        {},
        'x',
      ],
    });
    expect(err.details).toEqual([
      { line: 2, field: 'email', message: 'duplicate email: also on line 1' },
      { line: 3, field: 'weight', message: 'weight must be an integer from 1 to 1000' },
      { line: 4, field: 'username', message: 'username must be 3-64 characters of A-Z a-z 0-9 _ . -' },
      { line: 5, field: 'nickname', message: 'unknown field "nickname"' },
      { line: 6, message: 'a voter needs a name, email, external_id or username' },
      { line: 7, message: 'each voter must be an object' },
    ]);
  });

  it('refuses a bad header, a short row, an empty roll, and a body with both or neither form', () => {
    expect(refusal({ csv: 'name,phone\nA,1' }).details).toEqual([
      { line: 1, message: expect.stringMatching(/unknown column "phone"/) },
    ]);
    expect(refusal({ csv: 'name,email\nA' }).details).toEqual([
      { line: 2, message: '1 fields where the header has 2' },
    ]);
    expect(refusal({ csv: 'name\n' }).code).toBe('invalid_roll');
    expect(refusal({ voters: [], csv: 'name' }).code).toBe('invalid_request');
    expect(refusal({}).code).toBe('invalid_request');
    expect(refusal({ voters: 'x' }).code).toBe('invalid_request');
  });
});

describe('credentials', () => {
  it('carry at least 128 random bits, name their election, and hash with SHA-256', () => {
    const a = newCredential('elabcd1234');
    const b = newCredential('elabcd1234');
    expect(a).not.toBe(b);
    const secret = a.split('.')[1]!;
    expect(Buffer.from(secret, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(credentialElection(a)).toBe('elabcd1234');
    expect(credentialElection(`${a}x`)).toBeNull();
    expect(credentialElection('elabcd1234.short')).toBeNull();
    expect(credentialHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(votingLink('http://h:5173/', a)).toBe(`http://h:5173/#/c/${a}`);
  });
});
