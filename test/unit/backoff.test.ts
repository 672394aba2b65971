import { describe, expect, it } from 'vitest';
import { backoffCeilingSeconds, outageDelaySeconds, retryDelaySeconds } from '../../shared/runtime/backoff.ts';

const policy = { maxRetries: 10, backoffBaseSeconds: 1, backoffMaxSeconds: 600, jitter: true };

describe('retry back-off', () => {
  it('doubles from the base and stops at the maximum', () => {
    expect([1, 2, 3, 4, 10, 11, 40].map((n) => backoffCeilingSeconds(policy, n))).toEqual([1, 2, 4, 8, 512, 600, 600]);
  });

  it('draws full jitter from [0, ceiling]', () => {
    expect(retryDelaySeconds(policy, 5, () => 0)).toBe(0);
    expect(retryDelaySeconds(policy, 5, () => 0.999999)).toBe(16);
    for (let i = 0; i < 1000; i++) {
      const delay = retryDelaySeconds(policy, 7);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(64);
      expect(Number.isInteger(delay)).toBe(true);
    }
  });

  it('uses the ceiling itself without jitter', () => {
    expect(retryDelaySeconds({ ...policy, jitter: false }, 3, () => 0)).toBe(4);
  });

  it('backs off from an outage by receive count, between half and all of 5 s doubling to 300 s', () => {
    expect(outageDelaySeconds(1, () => 0)).toBe(2);
    expect(outageDelaySeconds(1, () => 0.999)).toBe(4);
    expect(outageDelaySeconds(3, () => 0.999)).toBe(19);
    expect(outageDelaySeconds(50, () => 0.999)).toBeLessThanOrEqual(300);
  });
});
