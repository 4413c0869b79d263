import fc from 'fast-check';
import type { AuthRule, Role, Route } from './fuzz-routes';

/**
 * The HTTP fuzzer's generators (test/e2e/http-fuzz.test.ts): requests with random
 * routes, ids, bodies, content types, headers and tokens, and "near valid" ones that
 * get past the first checks to the routes' own rules.
 */

/** Largest request body the API accepts (bytes); the generators straddle it. */
export const MAX_BODY = 64 * 1024;

/** A token the fuzz can put in the Authorization header, with what it should yield. */
export interface TokenCase {
  label: string;
  token: string;
  /** Role when the token is valid; undefined when it must be refused (401). */
  role?: Role;
}

/** One generated request. */
export interface FuzzRequest {
  route: Route;
  params: Record<string, string>;
  query: Record<string, string>;
  token: TokenCase | null;
  /** How the Authorization header is spelled around the token. */
  authFormat: number;
  authHeaderName: string;
  headers: Record<string, string>;
  body: string | undefined;
  isBase64Encoded: boolean;
  sourceIp: string;
}

/** Ways to spell the Authorization header around a token, and whether the API must accept it. */
export const AUTH_FORMATS: { make: (t: string) => string; valid: boolean }[] = [
  { make: (t) => `Bearer ${t}`, valid: true },
  { make: (t) => `bearer ${t}`, valid: true },
  { make: (t) => `Bearer   ${t}  `, valid: true },
  { make: (t) => `Basic ${t}`, valid: false },
  { make: (t) => t, valid: false },
  { make: () => 'Bearer', valid: false },
  { make: (t) => `Bearer ${t} trailing`, valid: false },
  { make: () => '   ', valid: false },
];

/**
 * What the generators aim at. The test fills these in while it sets up (elections in
 * every state, votes, tokens); the generators read them when a property is built.
 */
export interface FuzzWorld {
  /** Election ids by what they are (open, draft, closed, restricted, spares). */
  ids: Record<string, string>;
  voteIds: string[];
  tokens: TokenCase[];
  optionIds: string[];
  /**
   * Well-formed bodies by operationId for routes the generators have no rule of their
   * own for (the secret-ballot routes: real commitments, ballots, keys made at setup).
   */
  validBodies?: Record<string, string[]>;
}

/** The generators over `world`; `mixed(routes, bodies)` is what a fuzz phase runs. */
export function fuzzArbitraries(world: FuzzWorld) {
  const { ids, voteIds, tokens } = world;

  const idChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.~ %/:{}|"\'é'.split(''));
  const text = (max: number) => fc.string({ maxLength: max });
  const anyId = () =>
    fc.oneof(
      fc.constantFrom(...Object.keys(ids)).map((k) => ids[k]!),
      fc.stringMatching(/^el[a-z0-9]{4,40}$/),
      fc.string({ unit: idChars, minLength: 1, maxLength: 60 }),
      fc.constantFrom('', 'el', `el${'a'.repeat(41)}`, 'ELABCDEF', 'el../../x'),
    );
  const bigDigits = fc.stringMatching(/^[0-9]{15,20}$/);
  const voteIdArb = () =>
    fc.oneof(
      fc.constantFrom(...voteIds),
      fc
        .tuple(
          fc.constantFrom(...Object.keys(ids)),
          fc.nat(20),
          fc.oneof(fc.nat(), bigDigits),
          fc.oneof(fc.nat(), bigDigits),
        )
        .map(([k, p, ms, seq]) => `${ids[k]}.${p}.${ms}-${seq}`),
      fc.constantFrom(...voteIds).map((v) => v.replace(/\.\d+\./, '.1.')),
      fc.string({ unit: idChars, maxLength: 80 }),
    );
  // A roll voter's id (`/roll/{voterId}/…`): shaped like one, or anything.
  const voterIdArb = () =>
    fc.oneof(fc.stringMatching(/^v[a-z0-9]{4,24}$/), fc.string({ unit: idChars, maxLength: 40 }));
  const jsonText = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null');
  const optionValue = fc.oneof(
    fc.constantFrom(...world.optionIds),
    text(10),
    fc.integer(),
    fc.constant(null),
    fc.constant('x'.repeat(65)),
    fc.array(fc.constantFrom(...world.optionIds), { maxLength: 2 }),
  );
  const voteBody = fc
    .record(
      { optionId: optionValue, extra: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }) },
      { requiredKeys: [] },
    )
    .map((r) => {
      const o: Record<string, unknown> = {};
      if ('optionId' in r) o['optionId'] = r.optionId;
      if (r.extra !== undefined) o['extra'] = r.extra;
      return JSON.stringify(o);
    });
  const electionBody = fc
    .record(
      {
        title: fc.oneof(text(30), fc.constant(''), fc.integer(), fc.constant('t'.repeat(201))),
        options: fc.oneof(
          fc.array(
            fc.record({
              id: fc.oneof(text(8), fc.constantFrom('a', 'b', 'a')),
              label: fc.oneof(text(8), fc.integer()),
            }),
            {
              maxLength: 4,
            },
          ),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        opensAt: fc.oneof(
          fc.constant(null),
          text(25),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        closesAt: fc.oneof(
          fc.constant(null),
          text(25),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        voters: fc.oneof(fc.array(text(10), { maxLength: 3 }), fc.integer(), fc.constant([''])),
        hideTotalsUntilClosed: fc.oneof(fc.boolean(), fc.constant('yes')),
        bogus: fc.integer(),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o));
  const userBody = fc
    .record(
      {
        username: fc.oneof(
          fc.stringMatching(/^[a-z0-9_.-]{1,70}$/),
          text(20),
          fc.constant('fz-user'),
          fc.constant('FZ-USER'),
        ),
        password: fc.oneof(
          text(12),
          fc.constant('long enough password'),
          fc.integer(),
          fc.constant('p'.repeat(300)),
        ),
        role: fc.oneof(fc.constantFrom('voter', 'admin', 'auditor', 'root', ''), fc.integer()),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o));
  const credentialsBody = fc
    .record(
      {
        username: fc.oneof(fc.constant('fz-user'), text(20), fc.integer()),
        password: fc.oneof(fc.constant('correct horse battery'), text(20), fc.constant(null)),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o));
  const bodyArb = (specific: fc.Arbitrary<string>[]) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constant('') },
      { weight: 6, arbitrary: fc.oneof(...specific) },
      { weight: 3, arbitrary: jsonText },
      { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
      { weight: 1, arbitrary: fc.constantFrom('{"optionId":', '{', '[1,', 'nul', '\u0000', '{"a":1}}') },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: MAX_BODY - 20, max: MAX_BODY + 50 })
          .map((n) => JSON.stringify({ optionId: 'y'.repeat(Math.max(0, n - 15)) })),
      },
    );
  const headerValue = fc.string({
    unit: fc.constantFrom(...' \tabcXYZ019-_.:;/=+"\'(),é\u00ff'.split('')),
    maxLength: 120,
  });
  const headersArb = fc
    .record(
      {
        ct: fc.oneof(
          {
            weight: 4,
            arbitrary: fc.constantFrom(
              'application/json',
              'application/json; charset=utf-8',
              'APPLICATION/JSON',
              'application/vnd.api+json',
            ),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              'text/plain',
              'application/x-www-form-urlencoded',
              'multipart/form-data; boundary=x',
              'application/jsonx',
              '',
            ),
          },
          { weight: 1, arbitrary: headerValue },
        ),
        ctName: fc.constantFrom('content-type', 'Content-Type', 'CONTENT-TYPE'),
        idem: fc.oneof(
          fc.constantFrom('fz-key-0', 'fz-key-1', 'k', 'a|b', 'has space', 'x'.repeat(201), ''),
          headerValue,
        ),
        reqId: headerValue,
        other: fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,12}$/), headerValue, { maxKeys: 3 }),
      },
      { requiredKeys: [] },
    )
    .map((r) => {
      const h: Record<string, string> = { ...r.other };
      if (r.ct !== undefined) h[r.ctName ?? 'content-type'] = r.ct;
      if (r.idem !== undefined) h['Idempotency-Key'] = r.idem;
      if (r.reqId !== undefined) h['X-Request-Id'] = r.reqId;
      return h;
    });
  const queryArb = fc
    .record(
      {
        limit: fc.oneof(fc.constantFrom('0', '1', '1000', '1001', '-1', '1e3', '5.5', ''), text(6)),
        cursor: fc.oneof(
          fc.constantFrom('0:', '1:', '2:', '9999:', ':', '0:0-0', '1:1-1'),
          fc.tuple(fc.nat(3), bigDigits, bigDigits).map(([p, a, b]) => `${p}:${a}-${b}`),
          text(20),
        ),
      },
      { requiredKeys: [] },
    )
    .map(
      (q) =>
        Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<string, string>,
    );
  const tokenArb = () =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 8, arbitrary: fc.constantFrom(...tokens) },
    );
  const requestArb = (routes: Route[], bodies: fc.Arbitrary<string>[]) =>
    fc
      .record({
        route: fc.constantFrom(...routes),
        id: anyId(),
        voteId: voteIdArb(),
        voterId: voterIdArb(),
        query: queryArb,
        token: tokenArb(),
        authFormat: fc.oneof(
          { weight: 6, arbitrary: fc.constant(0) },
          { weight: 3, arbitrary: fc.nat(AUTH_FORMATS.length - 1) },
        ),
        authHeaderName: fc.constantFrom('authorization', 'Authorization', 'AUTHORIZATION'),
        headers: headersArb,
        body: bodyArb(bodies),
        base64: fc.boolean(),
        sourceIp: fc.oneof(
          { weight: 1, arbitrary: fc.constant('10.9.9.9') },
          { weight: 9, arbitrary: fc.ipV4() },
        ),
      })
      .map(
        (r): FuzzRequest => ({
          route: r.route,
          params: { id: r.id, voteId: r.voteId, voterId: r.voterId },
          query: r.query,
          token: r.token,
          authFormat: r.authFormat,
          authHeaderName: r.authHeaderName,
          headers: r.headers,
          body: r.base64 && r.body !== undefined ? Buffer.from(r.body, 'utf8').toString('base64') : r.body,
          isBase64Encoded: r.base64 && r.body !== undefined,
          sourceIp: r.sourceIp,
        }),
      );

  /**
   * Requests that are valid or one or two steps from valid: the right role's token, a
   * real id, a well-formed body, with now and then one part swapped for a bad one. Fully
   * random requests almost never get past the token and the body checks; these reach
   * the routes' own rules (already voted, replayed key, not eligible, not open, bad
   * option, rate limit, state transitions, user exists...).
   */
  const sometimes = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>, badWeight = 1) =>
    fc.oneof({ weight: 8, arbitrary: good }, { weight: badWeight, arbitrary: bad });
  const roleTokens = (rule: AuthRule): TokenCase[] =>
    tokens.filter((t) => t.role !== undefined && (rule === 'any' || rule === 'none' || t.role === rule));
  const validBody = (r: Route): fc.Arbitrary<string | undefined> => {
    switch (r.name) {
      case 'submitVote':
        return fc.constantFrom(...world.optionIds).map((o) => JSON.stringify({ optionId: o }));
      case 'createElection':
        return fc
          .record({
            title: fc.string({ minLength: 1, maxLength: 20 }).filter((t) => t.trim() !== ''),
            n: fc.integer({ min: 2, max: 4 }),
          })
          .map(({ title, n }) =>
            JSON.stringify({
              title,
              options: Array.from({ length: n }, (_, i) => ({ id: `o${i}`, label: `O${i}` })),
            }),
          );
      case 'createUser':
        return fc
          .record({
            name: fc.stringMatching(/^[a-z0-9]{3,10}$/),
            role: fc.constantFrom('voter', 'admin', 'auditor'),
          })
          .map(({ name, role }) =>
            JSON.stringify({ username: `fz-${name}`, password: 'long enough password', role }),
          );
      case 'createToken':
        return fc
          .constantFrom('correct horse battery', 'wrong password!')
          .map((password) => JSON.stringify({ username: 'fz-user', password }));
      default: {
        const made = world.validBodies?.[r.name];
        return made?.length ? fc.constantFrom(...made) : fc.constant(undefined);
      }
    }
  };
  // Built once per property (not per run: making arbitraries such as stringMatching is costly).
  const nearValidArb = (routes: Route[], bodies: fc.Arbitrary<string>[]) => {
    const shared = {
      id: sometimes(fc.constantFrom(...Object.values(ids)), anyId()),
      voteId: sometimes(fc.constantFrom(...voteIds), voteIdArb()),
      voterId: voterIdArb(),
      body: bodyArb(bodies),
      token: tokenArb(),
    };
    return fc.oneof(
      ...routes.map((r) => ({
        weight: r.name === 'submitVote' ? 4 : 1,
        arbitrary: fc
          .record({
            id: shared.id,
            voteId: shared.voteId,
            voterId: shared.voterId,
            query: sometimes(
              fc.record({
                limit: fc.integer({ min: 1, max: 1000 }).map(String),
                cursor: fc.constantFrom('0:', '1:'),
              }),
              queryArb,
            ),
            token: sometimes(fc.constantFrom(...roleTokens(r.auth)), shared.token, 2),
            authFormat: sometimes(fc.constant(0), fc.nat(AUTH_FORMATS.length - 1)),
            idem: fc.oneof(
              fc.constant(undefined),
              fc.nat(3).map((i) => `fz-key-${i}`),
              fc.stringMatching(/^[A-Za-z0-9-]{1,30}$/),
              fc.constantFrom('a|b', 'with space', ''),
            ),
            ct: sometimes(
              fc.constantFrom(undefined, 'application/json'),
              fc.constantFrom('text/plain', 'application/xml'),
            ),
            body: sometimes(validBody(r), shared.body, 2),
            sourceIp: fc.oneof(
              { weight: 1, arbitrary: fc.constant('10.9.9.9') },
              { weight: 6, arbitrary: fc.ipV4() },
            ),
          })
          .map(
            (x): FuzzRequest => ({
              route: r,
              params: { id: x.id, voteId: x.voteId, voterId: x.voterId },
              query: r.name === 'getAudit' ? x.query : {},
              token: x.token,
              authFormat: x.authFormat,
              authHeaderName: 'authorization',
              headers: {
                ...(x.ct === undefined ? {} : { 'content-type': x.ct }),
                ...(x.idem === undefined ? {} : { 'Idempotency-Key': x.idem }),
              },
              body: x.body,
              isBase64Encoded: false,
              sourceIp: x.sourceIp,
            }),
          ),
      })),
    );
  };
  const mixed = (routes: Route[], bodies: fc.Arbitrary<string>[]) =>
    fc.oneof(requestArb(routes, bodies), nearValidArb(routes, bodies));
  return { voteBody, electionBody, userBody, credentialsBody, mixed };
}
