import { PartitionRounds, PollBackoff } from '../../coordinator/pipeline/poll-backoff';
import { Alarm } from '../../coordinator/pipeline/wake-ups';

describe('PollBackoff: quiet partitions are polled less, busy ones at once', () => {
  let now = 0;
  const pace = () => new PollBackoff(40, () => now);

  beforeEach(() => {
    now = 1000;
  });

  it('a partition never polled, or that just found work, is due at once', () => {
    const p = pace();
    expect(p.due('e|0')).toBe(true);
    p.record('e|0', true);
    expect(p.due('e|0')).toBe(true);
    expect(p.msUntilNextDue()).toBe(40); // nothing paused: the loop may sleep the maximum
  });

  it('each empty poll doubles the pause, up to the maximum', () => {
    const p = pace();
    const pauses: number[] = [];
    for (let i = 0; i < 8; i++) {
      p.record('e|0', false);
      let waited = 0;
      while (!p.due('e|0')) {
        now += 1;
        waited += 1;
      }
      pauses.push(waited);
    }
    expect(pauses).toEqual([1, 2, 4, 8, 16, 32, 40, 40]);
  });

  it('work resets the pause; keys are independent; forget clears by prefix', () => {
    const p = pace();
    for (let i = 0; i < 4; i++) p.record('a|0', false); // pause 8
    p.record('b|0', false); // pause 1
    expect(p.due('a|0')).toBe(false);
    expect(p.msUntilNextDue()).toBe(1);
    p.record('a|0', true);
    expect(p.due('a|0')).toBe(true);
    p.record('a|1', false);
    p.forget('a|');
    expect(p.due('a|1')).toBe(true);
    expect(p.due('b|0')).toBe(false);
  });

  it('a maximum of 0 disables pacing', () => {
    const p = new PollBackoff(0, () => now);
    p.record('e|0', false);
    expect(p.due('e|0')).toBe(true);
  });
});

describe('PartitionRounds: a stuck partition does not hold up the others', () => {
  it('waits at most maxWaitMs, never restarts running work, and counts late work next round', async () => {
    const errors: string[] = [];
    const rounds = new PartitionRounds(new PollBackoff(0), (key) => errors.push(key));
    let release!: (n: number) => void;
    const stuck = new Promise<number>((r) => (release = r));
    const calls: string[] = [];
    const work = (key: string) => {
      calls.push(key);
      return key === 'slow' ? stuck : Promise.resolve(2);
    };
    // Fake timers: the round must stop waiting for 'slow' exactly when maxWaitMs has
    // passed, not earlier and not later (asserted on the timer, not on elapsed time).
    jest.useFakeTimers();
    let first: Promise<number>;
    let settled = false;
    try {
      first = rounds.round(['slow', 'a', 'b'], work, 30);
      void first.then(() => {
        settled = true;
      });
      await jest.advanceTimersByTimeAsync(29);
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(settled).toBe(true);
    } finally {
      jest.useRealTimers();
    }
    expect(await first).toBe(4);
    expect(await rounds.round(['slow', 'a'], work, 30)).toBe(2); // 'slow' still running: not restarted
    expect(calls.filter((c) => c === 'slow')).toHaveLength(1);
    release(5);
    await stuck;
    expect(await rounds.round([], work, 30)).toBe(5); // finished late: counted now
    expect(errors).toEqual([]);
  });

  it('reports failures per partition and goes on with the rest', async () => {
    const errors: string[] = [];
    const rounds = new PartitionRounds(new PollBackoff(0), (key) => errors.push(key));
    const n = await rounds.round(
      ['bad', 'good'],
      (key) => (key === 'bad' ? Promise.reject(new Error('boom')) : Promise.resolve(3)),
      Number.POSITIVE_INFINITY,
    );
    expect(n).toBe(3);
    expect(errors).toEqual(['bad']);
  });
});

describe('push: a partition waiting for a notice is polled only by the safety net', () => {
  let now = 0;
  beforeEach(() => {
    now = 1000;
  });

  it('an empty poll that left a wake-up flag pauses for the safety-net interval; a wake makes it due', () => {
    const p = new PollBackoff(40, () => now, 1000);
    p.record('e|0', false, true);
    expect(p.due('e|0')).toBe(false);
    expect(p.msUntilNextDue()).toBe(1000);
    now += 999;
    expect(p.due('e|0')).toBe(false);
    now += 1;
    expect(p.due('e|0')).toBe(true);
    p.record('e|0', false, true);
    p.wake('e|0');
    expect(p.due('e|0')).toBe(true);
    p.record('e|1', false, false); // no flag left: backs off as before (1 ms)
    expect(p.msUntilNextDue()).toBe(1);
  });

  it('without a safety-net interval (push off) a waiting poll backs off as an idle one', () => {
    const p = new PollBackoff(40, () => now);
    p.record('e|0', false, true);
    expect(p.msUntilNextDue()).toBe(1);
  });

  it('a notice during a running poll makes the partition due again at once, whatever the poll found', async () => {
    const rounds = new PartitionRounds(
      new PollBackoff(40, () => now, 1000),
      () => {},
      () => true,
    );
    let finish!: (n: number) => void;
    const calls: string[] = [];
    const work = (key: string) => {
      calls.push(key);
      return new Promise<number>((r) => (finish = r));
    };
    const round = rounds.round(['e|0'], work, Number.POSITIVE_INFINITY);
    rounds.wake('e|0'); // the notice of a vote the running read may have missed
    finish(0);
    await round;
    expect(rounds.msUntilNextDue()).toBe(40); // nothing paused: due now
    const again = rounds.round(['e|0'], work, Number.POSITIVE_INFINITY);
    finish(0);
    await again;
    expect(calls).toEqual(['e|0', 'e|0']);
    expect(rounds.msUntilNextDue()).toBe(1000); // no notice this time: waits for the safety net
  });
});

describe('Alarm: a notice ends the loop pause', () => {
  it('wake ends a pause early; a wake while not pausing ends the next one at once', async () => {
    const alarm = new Alarm();
    const t0 = performance.now();
    const paused = alarm.sleep(60_000);
    alarm.wake();
    await paused;
    alarm.wake();
    await alarm.sleep(60_000);
    expect(performance.now() - t0).toBeLessThan(30_000); // neither pause ran its course
  });
});
