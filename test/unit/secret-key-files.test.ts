import { toHex, voterPublicKey } from '../../shared/ballots';
import type { Election } from '../../shared/elections/model';
import {
  KeyFileError,
  parseTrusteeKeys,
  parseVoterKey,
  serializeTrusteeKeys,
  serializeVoterKey,
} from '../../shared/secret/key-files';
import { newTrusteeKeys } from '../../shared/secret/trustee-client';

/**
 * The key files the CLI writes and the web app downloads/imports (one format): what
 * one tool writes the other reads, and a wrong file is refused with a reason.
 */
const election = {
  id: 'el-keys',
  title: 'Keys',
  options: [
    { id: 'a', label: 'A' },
    { id: 'b', label: 'B' },
  ],
  ballot: 'secret',
  trustees: [
    { index: 1, id: 'u1' },
    { index: 2, id: 'u2' },
  ],
  threshold: 2,
} as unknown as Election;

describe('trustee key files', () => {
  const keys = newTrusteeKeys(election, 2);
  const text = serializeTrusteeKeys(keys);

  test('round trip: the file gives back the same keys, checked against election and trustee', () => {
    expect(parseTrusteeKeys(text, { electionId: 'el-keys', trustee: 2 })).toEqual(keys);
    expect(JSON.parse(text)).toEqual(keys);
  });

  test.each([
    ['not JSON', 'hello', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['a voter key file', serializeVoterKey('el-keys', '11'.repeat(32)), /voter key file, not a trustee/],
  ])('%s is refused', (_what, bad, message) => {
    expect(() => parseTrusteeKeys(bad)).toThrow(KeyFileError);
    expect(() => parseTrusteeKeys(bad)).toThrow(message);
  });

  test('another election or another trustee is refused, naming both', () => {
    expect(() => parseTrusteeKeys(text, { electionId: 'other' })).toThrow(
      'it holds the keys of election el-keys, not of election other',
    );
    expect(() => parseTrusteeKeys(text, { trustee: 1 })).toThrow(
      'it holds the keys of trustee 2; you are trustee 1',
    );
  });

  test('a secret that does not match its public value is refused (damaged or edited file)', () => {
    const edited = JSON.parse(text);
    edited.polynomial.coefficients[1] = edited.polynomial.coefficients[0];
    expect(() => parseTrusteeKeys(JSON.stringify(edited))).toThrow(
      /damaged or not one \(coefficient 1 does not match its commitment\)/,
    );
    const transport = JSON.parse(text);
    transport.transport.publicKey = keys.commitment.coefficients[0];
    expect(() => parseTrusteeKeys(JSON.stringify(transport))).toThrow(/transport key pair does not match/);
    const missing = JSON.parse(text);
    delete missing.transport;
    missing.secretKey = 'x';
    expect(() => parseTrusteeKeys(JSON.stringify(missing))).toThrow(
      /damaged or not one \(no transport key\)/,
    );
  });
});

describe('voter key files', () => {
  const seed = new Uint8Array(32).fill(7);
  const text = serializeVoterKey('el-keys', toHex(seed));

  test('round trip gives the same seed (same public key)', () => {
    const back = parseVoterKey(text, 'el-keys');
    expect(toHex(voterPublicKey(back))).toBe(toHex(voterPublicKey(seed)));
  });

  test('wrong files are refused with the reason', () => {
    expect(() => parseVoterKey(text, 'other')).toThrow(
      'it holds the keys of election el-keys, not of election other',
    );
    expect(() => parseVoterKey(serializeTrusteeKeys(newTrusteeKeys(election, 1)))).toThrow(
      'this is a trustee key file, not a voter key file',
    );
    expect(() => parseVoterKey('{"electionId":"el-keys","secretKey":"ABC"}')).toThrow(/damaged/);
    expect(() => parseVoterKey('{"secretKey":"00"}')).toThrow(/not a voter key file \(no electionId\)/);
  });
});
