import { ApiError, withRetries } from '../../web/src/api';

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
