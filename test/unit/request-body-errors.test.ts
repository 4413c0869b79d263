import { parseTokenRequest } from '../../shared/auth/user-input';
import { parseNewElection } from '../../shared/elections/new-election';
import { ApiError } from '../../shared/errors';
import { parseChoiceRequest, parseVoteRequest } from '../../shared/votes/vote-request';

/**
 * The 400s a client gets for a bad body are API.md's hand-written messages, one per
 * field, whichever schema library finds the problem; with several problems, the first in
 * the order the fields are checked: unknown fields, then each field in order, an array's
 * length before its items, `closesAt` after `opensAt` before the fields that follow.
 */
function refusal(parse: (b: unknown) => unknown, body: unknown): unknown {
  try {
    parse(body);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.status, code: err.code, message: err.message, details: err.details };
  }
  throw new Error('expected a 400');
}
const bad = (message: string, details?: unknown) => ({
  status: 400,
  code: 'invalid_request',
  message,
  details,
});

const options = [
  { id: 'yes', label: 'Yes' },
  { id: 'no', label: 'No' },
];
const election = { title: 'Budget', options };

describe('POST /elections body', () => {
  test('a valid body: title trimmed, times normalized, voters deduplicated, extra option fields dropped', () => {
    expect(
      parseNewElection({
        title: '  Budget ',
        options: [{ id: 'yes', label: 'Yes', color: 'green' }, options[1]],
        opensAt: '2030-01-01T00:00:00+01:00',
        closesAt: null,
        voters: ['u1', 'u2', 'u1'],
      }),
    ).toEqual({
      title: 'Budget',
      options,
      opensAt: '2029-12-31T23:00:00.000Z',
      closesAt: null,
      voters: ['u1', 'u2'],
      hideTotalsUntilClosed: false,
      access: 'roll', // the default: voter accounts (or the roll once it has entries)
      secret: null, // an open ballot: no trustees, threshold or selection bounds
    });
  });

  test.each<[string, unknown, unknown]>([
    ['not an object', [], bad('Body must be a JSON object')],
    ['unknown fields', { ...election, a: 1, b: 2 }, bad('Unknown field(s): a, b', { fields: ['a', 'b'] })],
    [
      'blank title',
      { ...election, title: '   ' },
      bad('title must be a non-empty string of at most 200 characters', { field: 'title' }),
    ],
    [
      'one option',
      { ...election, options: [options[0]] },
      bad('options must be an array of 2 to 64 {id, label}', { field: 'options' }),
    ],
    [
      'an option that is not an object',
      { ...election, options: [options[0], 'no'] },
      bad('options[1] must be an object', { field: 'options' }),
    ],
    [
      'an option that is an array (read as an object without an id)',
      { ...election, options: [options[0], []] },
      bad('options[1].id must be 1-64 characters of A-Z a-z 0-9 _ -', { field: 'options' }),
    ],
    [
      'a blank label',
      { ...election, options: [options[0], { id: 'no', label: ' ' }] },
      bad('options[1].label must be a non-empty string', { field: 'options' }),
    ],
    [
      'duplicate option ids',
      { ...election, options: [options[0], { id: 'yes', label: 'Again' }] },
      bad('option ids must be unique', { field: 'options' }),
    ],
    [
      'a time Date.parse cannot read',
      { ...election, opensAt: 'soon' },
      bad('opensAt must be an ISO-8601 timestamp', { field: 'opensAt' }),
    ],
    [
      'closing before opening',
      { ...election, opensAt: '2030-01-02T00:00:00Z', closesAt: '2030-01-01T00:00:00Z' },
      bad('closesAt must be after opensAt', { field: 'closesAt' }),
    ],
    [
      'an empty voter id',
      { ...election, voters: ['u1', ''] },
      bad('voters must be an array of user ids (sub)', { field: 'voters' }),
    ],
    [
      'hideTotalsUntilClosed null',
      { ...election, hideTotalsUntilClosed: null },
      bad('hideTotalsUntilClosed must be a boolean', { field: 'hideTotalsUntilClosed' }),
    ],
  ])('%s', (_what, body, expected) => {
    expect(refusal(parseNewElection, body)).toEqual(expected);
  });

  test.each<[string, unknown, unknown]>([
    [
      'unknown fields before a bad title',
      { title: 3, zz: 1 },
      bad('Unknown field(s): zz', { fields: ['zz'] }),
    ],
    [
      'the title before the options',
      { title: '', options: 'x' },
      bad('title must be a non-empty string of at most 200 characters', { field: 'title' }),
    ],
    [
      "the options' count before their items",
      { ...election, options: [{ id: '!' }] },
      bad('options must be an array of 2 to 64 {id, label}', { field: 'options' }),
    ],
    [
      'an earlier item before a later one, its id before its label',
      { ...election, options: [{ id: '!', label: '' }, 5] },
      bad('options[0].id must be 1-64 characters of A-Z a-z 0-9 _ -', { field: 'options' }),
    ],
    [
      'a bad item, not the duplicate ids',
      { ...election, options: [options[0], { id: 'yes', label: '' }] },
      bad('options[1].label must be a non-empty string', { field: 'options' }),
    ],
    [
      'closing before opening, before bad voters',
      { ...election, opensAt: '2030-01-02T00:00:00Z', closesAt: '2030-01-01T00:00:00Z', voters: 3 },
      bad('closesAt must be after opensAt', { field: 'closesAt' }),
    ],
  ])('several problems: %s', (_what, body, expected) => {
    expect(refusal(parseNewElection, body)).toEqual(expected);
  });
});

describe('"choose up to m" (issue 17): maxChoices and optionIds', () => {
  test('maxChoices: default 1 (absent), 1 ≤ m ≤ options, open ballots only', () => {
    expect(parseNewElection(election).maxChoices).toBeUndefined();
    expect(parseNewElection({ ...election, maxChoices: 1 }).maxChoices).toBeUndefined();
    expect(parseNewElection({ ...election, maxChoices: 2 }).maxChoices).toBe(2);
    expect(refusal(parseNewElection, { ...election, maxChoices: 3 })).toEqual(
      bad('maxChoices must be at most the number of options', { field: 'maxChoices' }),
    );
    for (const maxChoices of [0, 1.5, '2', null, 65]) {
      expect(refusal(parseNewElection, { ...election, maxChoices })).toEqual(
        bad('maxChoices must be an integer from 1 to the number of options', { field: 'maxChoices' }),
      );
    }
    const secret = { ...election, ballot: 'secret', trustees: ['t1'], threshold: 1 };
    expect(parseNewElection({ ...secret, maxChoices: 1 }).secret).toMatchObject({ maxSelections: 1 });
    expect(refusal(parseNewElection, { ...secret, maxChoices: 2 })).toEqual(
      bad(
        'maxChoices applies to open ballots; a secret ballot sets how many options it may select with minSelections/maxSelections (docs/api.md "Secret ballots")',
        { field: 'maxChoices' },
      ),
    );
  });

  test('vote: {optionId} is one id, {optionIds} 1 to 64 non-empty ids, never both', () => {
    expect(parseChoiceRequest({ optionId: 'yes' })).toEqual(['yes']);
    expect(parseChoiceRequest({ optionIds: ['no', 'yes'] })).toEqual(['no', 'yes']);
    const shape = bad('optionIds must be an array of 1 to 64 option ids (non-empty strings)', {
      field: 'optionIds',
    });
    for (const optionIds of [[], 'yes', [''], [1], Array.from({ length: 65 }, (_, i) => `o${i}`), null]) {
      expect(refusal(parseChoiceRequest, { optionIds })).toEqual(shape);
    }
    expect(refusal(parseChoiceRequest, { optionId: 'yes', optionIds: ['yes'] })).toEqual(
      bad('Send either optionId or optionIds, not both', { fields: ['optionId', 'optionIds'] }),
    );
    expect(refusal(parseChoiceRequest, { optionIds: ['yes'], x: 1 })).toEqual(
      bad('Unknown field(s): x', { fields: ['x'] }),
    );
    expect(refusal(parseChoiceRequest, null)).toEqual(bad('Body must be a JSON object {optionId}'));
  });
});

describe('POST /elections/{id}/votes and POST /auth/token bodies', () => {
  test('vote: the option id, or the first problem', () => {
    expect(parseVoteRequest({ optionId: 'yes' })).toBe('yes');
    expect(refusal(parseVoteRequest, null)).toEqual(bad('Body must be a JSON object {optionId}'));
    expect(refusal(parseVoteRequest, { optionId: '', x: 1 })).toEqual(
      bad('Unknown field(s): x', { fields: ['x'] }),
    );
    expect(refusal(parseVoteRequest, { optionId: 'x'.repeat(65) })).toEqual(
      bad('optionId must be a non-empty string', { field: 'optionId' }),
    );
  });

  test('token: both strings, other fields ignored; else the one documented 400', () => {
    expect(parseTokenRequest({ username: 'alice', password: 'pw', remember: true })).toEqual({
      username: 'alice',
      password: 'pw',
    });
    for (const body of [null, 'alice', { username: 'alice' }, { username: 'alice', password: 1 }]) {
      expect(refusal(parseTokenRequest, body)).toEqual(
        bad('Body must be {"username": string, "password": string}'),
      );
    }
  });
});
