import { backoffDelay, JITTER, sleep } from './backoff';

const policy = { initialBackoffMs: 200, maxBackoffMs: 10000 };

describe('backoffDelay', () => {
  it('doubles from the initial delay without jitter at the midpoint', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, policy, mid))).toEqual([200, 400, 800, 1600, 3200, 6400, 10000]);
  });

  it('never exceeds the maximum, jitter included, even for huge attempt numbers', () => {
    expect(backoffDelay(7, policy, () => 0.999999)).toBe(10000);
    expect(backoffDelay(5000, policy, () => 0.999999)).toBe(10000);
    expect(backoffDelay(5000, policy, () => 0)).toBe(Math.round(10000 * (1 - JITTER)));
  });

  it('spreads delays by ±20%', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(160);
    expect(backoffDelay(1, policy, () => 0.999999)).toBe(240);
    expect(backoffDelay(3, policy, () => 0)).toBe(640);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(960);
  });

  it('stays within bounds with the real random source', () => {
    for (let n = 1; n <= 12; n++) {
      const nominal = Math.min(10000, 200 * 2 ** (n - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(n, policy);
        expect(d).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
        expect(d).toBeLessThanOrEqual(Math.min(10000, Math.ceil(nominal * 1.2)));
      }
    }
  });

  it('rejects attempt numbers below 1', () => {
    expect(() => backoffDelay(0, policy)).toThrow(RangeError);
    expect(() => backoffDelay(1.5, policy)).toThrow(RangeError);
  });
});

describe('sleep', () => {
  it('resolves true after the delay', async () => {
    await expect(sleep(5)).resolves.toBe(true);
  });

  it('resolves false at once when aborted meanwhile or before', async () => {
    const c = new AbortController();
    const started = Date.now();
    const p = sleep(60000, c.signal);
    c.abort();
    await expect(p).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(sleep(60000, c.signal)).resolves.toBe(false);
  });
});
