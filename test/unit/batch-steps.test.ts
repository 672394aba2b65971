import { describe, expect, it } from 'vitest';
import { tasks } from '../../shared/catalogue/index.ts';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { PermanentError, RetryLaterError, TaskRevokedError } from '../../shared/errors.ts';
import { classify, lostAttempts } from '../../shared/runtime/batch/classify.ts';
import { planBatch, throttleWaits } from '../../shared/runtime/batch/plan.ts';
import { TaskDirectory } from '../../shared/runtime/parse.ts';
import { noop } from '../../shared/tasks/default.ts';
import { sqsRecordFactory } from '../support/factories.ts';

const directory = new TaskDirectory('default', [noop], Object.values(tasks));
const now = Date.parse('2026-12-02T12:00:00Z');
const record = (body: unknown, messageId: string) => sqsRecordFactory(typeof body === 'string' ? body : JSON.stringify(body), { messageId });

describe('planBatch', () => {
  const due = newEnvelope('default.noop', {}, { id: 'due' });
  it.each([
    ['a due task', [record(due, 'm1')], [{ ok: true, timing: 'due', duplicateInBatch: false }]],
    ['a task before its eta', [record({ ...due, eta: '2026-12-02T12:05:00Z' }, 'm1')], [{ ok: true, timing: 'early' }]],
    ['a task past its expiry', [record({ ...due, expires: '2026-12-02T11:00:00Z' }, 'm1')], [{ ok: true, timing: 'expired' }]],
    ['two copies of one task', [record(due, 'm1'), record(due, 'm2')], [{ ok: true, duplicateInBatch: false }, { ok: true, duplicateInBatch: true }]],
    ['a rejected message', [record('not json', 'm1')], [{ ok: false, id: 'm1', reason: expect.stringMatching(/^invalid JSON/) }]],
    ['a rejected message reusing a valid task id', [record({ ...due, payload: { unknown: 1 } }, 'm1'), record(due, 'm2')], [{ ok: false, id: 'm1' }, { ok: true, duplicateInBatch: false }]],
  ])('%s', (_case, records, expected) => {
    expect([...planBatch(records, directory, now).values()]).toEqual(expected.map((plan) => expect.objectContaining(plan)));
  });
});

describe('classify', () => {
  const attempt = (n: number, maxAttempts = 3) => ({ attempt: n, maxAttempts, retry: { maxRetries: maxAttempts - 1, backoffBaseSeconds: 2, backoffMaxSeconds: 60, jitter: false }, random: () => 0.5 });
  const failed = (error: Error) => ({ ok: false as const, error, runtimeMs: 5 });
  it.each([
    ['a JSON result', { ok: true as const, value: { n: 1 }, runtimeMs: 5 }, attempt(1), { kind: 'success', result: { n: 1 } }],
    ['a result with a NUL, made storable', { ok: true as const, value: 'a\u0000b', runtimeMs: 5 }, attempt(1), { kind: 'success', result: 'a\uFFFDb' }],
    ['a result that is not JSON', { ok: true as const, value: 10n, runtimeMs: 5 }, attempt(1), { kind: 'failure', reason: expect.stringMatching(/^PermanentError: the task returned a value that is not JSON/) }],
    ['an error with attempts left', failed(new Error('boom')), attempt(1), { kind: 'retry', seconds: 2 }],
    ['an error at the second attempt', failed(new Error('boom')), attempt(2), { kind: 'retry', seconds: 4 }],
    ['an error on the last attempt', failed(new Error('boom')), attempt(3), { kind: 'failure', reason: 'retries exhausted after 3 attempts: Error: boom' }],
    ['a PermanentError at the first attempt', failed(new PermanentError('bad input')), attempt(1), { kind: 'failure', reason: 'PermanentError: bad input' }],
    ['a retry the task asks for', failed(new RetryLaterError('later', { countdownSeconds: 30 })), attempt(1), { kind: 'retry', seconds: 30 }],
    ['a revocation while running', failed(new TaskRevokedError('revoked')), attempt(1), { kind: 'revoked' }],
  ])('%s', (_case, execution, context, expected) => {
    expect(classify(execution, context)).toEqual(expect.objectContaining(expected));
  });

  it('counts attempts beyond the budget as lost workers, and no others', () => {
    expect(lostAttempts(4, 3)).toMatch(/^WorkerLostError: 3 attempts ended without an outcome/);
    expect(lostAttempts(3, 3)).toBeUndefined();
  });
});

describe('throttleWaits', () => {
  it.each([
    [3, 1, 0, [1, 2, 3]],
    [3, 1, 0.99, [2, 4, 6]],
    [4, 10, 0, [1, 1, 1, 1]],
    [2, 0.5, 0.5, [3, 6]],
  ])('%i waiting at %f/s with jitter %f wait %j seconds', (waiting, perSecond, jitter, expected) => {
    expect(throttleWaits(waiting, perSecond, () => jitter)).toEqual(expected);
  });
});
