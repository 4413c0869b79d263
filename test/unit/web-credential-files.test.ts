import { credentialsCsv, csvCell, mailMergeCsv, rollBody } from '../../web/src/room/credential-files';
import { base64url, deviceSecret, type SecretStore } from '../../web/src/room/device';
import type { ImportedVoter } from '../../web/src/room/room-api';

/**
 * The files the admin page makes from a roll import's one-time answer (credentials CSV,
 * mail merge), how a pasted roll is sent, and the join page's device secret.
 */
const voters: ImportedVoter[] = [
  {
    voterId: 'v1',
    name: 'Ada, Countess',
    email: 'ada@example.org',
    weight: 2,
    group: 'board',
    credential: 'c-ADA',
    link: 'http://h/#/c/c-ADA',
  },
  {
    voterId: 'v2',
    name: '=HYPERLINK("x")',
    externalId: 'E2',
    weight: 1,
    credential: 'c2',
    link: 'http://h/#/c/c2',
  },
  { voterId: 'v3', name: 'No credential', username: 'bob', weight: 1 },
];

describe('credential files', () => {
  it('quotes cells per RFC 4180 and defuses spreadsheet formulas from the roll, never our credentials', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('-x')).toBe("'-x");
    expect(csvCell('-credential', false)).toBe('-credential');
    expect(csvCell(undefined)).toBe('');
  });

  it('credentials CSV: one line per voter with a credential, every column', () => {
    expect(credentialsCsv(voters).split('\r\n')).toEqual([
      'voter_id,name,email,external_id,username,group,weight,credential,link',
      'v1,"Ada, Countess",ada@example.org,,,board,2,c-ADA,http://h/#/c/c-ADA',
      `v2,"'=HYPERLINK(""x"")",,E2,,,1,c2,http://h/#/c/c2`,
      '',
    ]);
  });

  it('mail-merge CSV: email, name, link for voters with an email and a link', () => {
    expect(mailMergeCsv(voters)).toBe(
      'email,name,link\r\nada@example.org,"Ada, Countess",http://h/#/c/c-ADA\r\n',
    );
  });

  it('a JSON roll goes as voters, anything else as CSV text; broken JSON is explained', () => {
    expect(rollBody('[{"name":"A"}]')).toEqual({ voters: [{ name: 'A' }] });
    expect(rollBody(' {"voters":[{"email":"a@b"}]}')).toEqual({ voters: [{ email: 'a@b' }] });
    expect(rollBody('name,email\nA,a@b\n')).toEqual({ csv: 'name,email\nA,a@b\n' });
    expect(() => rollBody('[{"name":')).toThrow(/looks like JSON but does not parse/);
    expect(() => rollBody('{"people":[]}')).toThrow(/array of voters/);
  });
});

describe('device secret', () => {
  const memory = (): SecretStore => {
    const m = new Map<string, string>();
    return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) };
  };

  it('base64url has no padding and no + or /', () => {
    expect(base64url(new Uint8Array([0xfb, 0xff, 0xfe]))).toBe('-__-');
    expect(base64url(new Uint8Array([1]))).toBe('AQ');
  });

  it('is made once from 32 random bytes (43 base64url characters) and kept', () => {
    const store = memory();
    const a = deviceSecret(store);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(deviceSecret(store)).toBe(a);
    expect(deviceSecret(memory())).not.toBe(a);
  });

  it('replaces a kept value that is not a valid secret', () => {
    const store = memory();
    store.setItem('qv:device', 'short');
    expect(deviceSecret(store)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
