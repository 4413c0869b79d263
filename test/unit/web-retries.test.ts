import { ApiError, api, isLambdaErrorEnvelope, request, withRetries } from '../../web/src/api';

/**
 * The web app retries a vote answered 503 (not yet on two Redis processes) or lost on
 * the network, waiting what Retry-After says, a bounded number of times; any other
 * answer comes back at once.
 */
describe('web withRetries', () => {
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  beforeEach(() => {
    waits.length = 0;
  });

  it('retries 503 honouring Retry-After and returns the eventual answer', async () => {
    const answers = [new ApiError(503, 'unavailable', 'x', 2), new ApiError(0, 'network', 'x'), 'ok'];
    let calls = 0;
    const r = await withRetries(
      async () => {
        const a = answers[calls++];
        if (a instanceof ApiError) throw a;
        return a;
      },
      5,
      sleep,
    );
    expect(r).toBe('ok');
    expect(calls).toBe(3);
    expect(waits).toEqual([2000, 1000]);
  });

  it('gives up after the given attempts with the last error', async () => {
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw new ApiError(503, 'unavailable', 'x', 1);
        },
        3,
        sleep,
      ),
    ).rejects.toMatchObject({ status: 503 });
    expect(calls).toBe(3);
  });

  it('does not retry a refusal such as 422 or 409', async () => {
    for (const status of [422, 409, 429]) {
      let calls = 0;
      await expect(
        withRetries(
          async () => {
            calls++;
            throw new ApiError(status, 'x', 'x');
          },
          5,
          sleep,
        ),
      ).rejects.toMatchObject({ status });
      expect(calls).toBe(1);
    }
    expect(waits).toEqual([]);
  });
});

/**
 * serverless-offline answers a Lambda that timed out with 200 and the Lambda error
 * envelope; under load a sign-in got that, the app took it for a token and crashed.
 */
describe('web request: a Lambda error envelope is not an answer', () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });
  const envelope = () =>
    new Response(JSON.stringify({ errorMessage: 'Task timed out after 10.00 seconds', errorType: 'Error' }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });

  it('is refused as 502 unavailable', async () => {
    globalThis.fetch = async () => envelope();
    await expect(request('GET', '/elections')).rejects.toMatchObject({ status: 502, code: 'unavailable' });
    expect(isLambdaErrorEnvelope({ errorMessage: 'x', errorType: 'Error' })).toBe(true);
    expect(isLambdaErrorEnvelope({ token: 't' })).toBe(false);
  });

  it('a sign-in that met it is tried again and gets its token', async () => {
    const answers = [
      envelope(),
      new Response(JSON.stringify({ token: 't', role: 'voter', sub: 'u1' }), { status: 200 }),
    ];
    let calls = 0;
    globalThis.fetch = async () => answers[calls++]!;
    await expect(api.signIn('ada', 'pw')).resolves.toMatchObject({ token: 't' });
    expect(calls).toBe(2);
  });
});
