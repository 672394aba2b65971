import { describe, expect, it } from 'vitest';
import { effectivePolicy, parseDuration, parseRate, policyChangeErrors, queues, tasks } from '../../shared/catalogue/index.ts';
import { policiesFrom } from '../../shared/runtime/batch/policies.ts';

describe('parseRate (Celery rate syntax)', () => {
  it.each([
    ['10/s', '10/s', 10, 10],
    ['60/m', '60/m', 1, 1],
    ['100/h', '100/h', 100 / 3600, 1],
    ['1/s', '1/s', 1, 1],
    ['0.5/s', '0.5/s', 0.5, 1],
    ['5', '5/s', 5, 5],
    [' 300 / m ', '300/m', 5, 5],
  ])('%j is %s: %d a second, a burst of %d', (text, normalised, perSecond, burst) => {
    expect(parseRate(text)).toEqual({ text: normalised, limit: { perSecond, burst } });
  });

  it.each(['0', '0/m', '0.0/h'])('%j lifts the limit, as Celery reads a zero rate', (text) => {
    expect(parseRate(text)).toEqual({ text: '0', limit: undefined });
  });

  it.each(['', 'fast', '10/d', '10/', '/m', '-1/s', '1e3/s', '10/min', '10 per m', 'NaN'])('refuses %j', (text) => {
    expect(parseRate(text)).toBeUndefined();
  });
});

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['1.5m', 90],
    ['500ms', 0.5],
    ['1h', 3600],
    [' 4 m ', 240],
  ])('%j is %d s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '0', '0s', '-5', 'soon', '5d', '5 minutes', 'Infinity'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('effectivePolicy', () => {
  const refund = tasks['billing.process_refund'];
  const noop = tasks['default.noop'];

  it("is the catalogue's without an override", () => {
    expect(effectivePolicy(refund, undefined)).toEqual({ rateLimit: '50/s', rate: { perSecond: 50, burst: 50 }, softTimeLimitSeconds: 240, timeLimitSeconds: 300 });
    expect(effectivePolicy(noop, undefined)).toEqual({ rateLimit: undefined, rate: undefined, softTimeLimitSeconds: 240, timeLimitSeconds: 300 });
  });

  it('takes what an override sets and keeps the rest', () => {
    expect(effectivePolicy(noop, { rateLimit: '1/s' })).toMatchObject({ rateLimit: '1/s', rate: { perSecond: 1, burst: 1 }, timeLimitSeconds: 300 });
    expect(effectivePolicy(refund, { softTimeLimitSeconds: 10, timeLimitSeconds: 20 })).toMatchObject({ rateLimit: '50/s', softTimeLimitSeconds: 10, timeLimitSeconds: 20 });
    expect(effectivePolicy(refund, { rateLimit: '0' })).toMatchObject({ rateLimit: undefined, rate: undefined });
  });

  it("applies an operator's concurrency limit on the catalogue's key, and 0 lifts it", () => {
    const exclusive = { ...noop, concurrency: { key: 'userId', limit: 2 } };
    expect(effectivePolicy(exclusive, undefined).concurrency).toEqual({ key: 'userId', limit: 2 });
    expect(effectivePolicy(exclusive, { concurrencyLimit: 1 }).concurrency).toEqual({ key: 'userId', limit: 1 });
    expect(effectivePolicy(exclusive, { concurrencyLimit: 0 }).concurrency).toBeUndefined();
    expect(effectivePolicy(noop, { concurrencyLimit: 4 }).concurrency).toEqual({ limit: 4 });
  });

  it("falls back to the catalogue's rate when a stored one no longer parses", () => {
    expect(effectivePolicy(refund, { rateLimit: 'garbage' })).toMatchObject({ rateLimit: '50/s' });
  });

  it('computes each task once per set of overrides', () => {
    const policies = policiesFrom(new Map([['default.noop', { rateLimit: '2/s' }]]));
    expect(policies.of(noop)).toBe(policies.of(noop));
    expect(policies.of(noop).rate).toEqual({ perSecond: 2, burst: 2 });
    expect(policies.of(refund).rateLimit).toBe('50/s');
  });
});

describe('policyChangeErrors', () => {
  const noop = tasks['default.noop'];

  it('accepts a rate and time limits within the consumer timeout', () => {
    expect(policyChangeErrors(noop, queues.default, { kind: 'rate-limit', rate: '10/m' })).toEqual([]);
    expect(policyChangeErrors(noop, queues.default, { kind: 'time-limit', softSeconds: 30, hardSeconds: 60 })).toEqual([]);
    expect(policyChangeErrors(noop, queues.default, { kind: 'concurrency', limit: 0 })).toEqual([]);
    expect(policyChangeErrors(noop, queues.default, { kind: 'concurrency', limit: 1000 })).toEqual([]);
  });

  it('names every problem at once', () => {
    expect(policyChangeErrors(noop, queues.default, { kind: 'rate-limit', rate: 'lots' })).toEqual([expect.stringMatching(/^a rate looks like 10\/s/)]);
    for (const limit of [-1, 1.5, 1001]) expect(policyChangeErrors(noop, queues.default, { kind: 'concurrency', limit })).toEqual([expect.stringMatching(/^a concurrency limit is a whole number from 1 to 1000/)]);
    expect(policyChangeErrors(noop, queues.default, { kind: 'time-limit', softSeconds: 400, hardSeconds: 350 })).toEqual([
      'the soft limit (400 s) must be below the hard limit (350 s)',
      "the hard limit (350 s) exceeds the default consumer's timeout of 300 s, which only a deploy can raise",
    ]);
  });
});
