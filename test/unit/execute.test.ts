import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/observability/index.ts';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { reasonOf, SoftTimeLimitExceeded, TimeLimitExceeded } from '../../shared/errors.ts';
import { executeTask } from '../../shared/runtime/execute.ts';
import type { TaskContext } from '../../shared/runtime/task.ts';
import { implement } from '../../shared/runtime/task.ts';
import { tasks } from '../../shared/catalogue/index.ts';

const context = {
  id: 't1', name: 'default.noop', queue: 'default', attempt: 1, maxRetries: 3,
  logger: createLogger('default'), envelope: newEnvelope('default.noop', {}), database: undefined as never, services: undefined as never,
} satisfies Omit<TaskContext, 'signal'>;
const run = (fn: (signal: AbortSignal) => unknown, limits = { softLimitMs: 50, hardLimitMs: 200 }) =>
  executeTask(implement(tasks['default.noop'], (_payload, { signal }) => fn(signal)), {}, (signal) => ({ ...context, signal }), limits);

describe('executeTask', () => {
  it('returns the value and the runtime', async () => {
    const execution = await run(() => ({ fine: true }));
    expect(execution).toMatchObject({ ok: true, value: { fine: true } });
    expect(execution.runtimeMs).toBeGreaterThanOrEqual(0);
  });

  it('fires the signal at the soft limit, and a task that then returns still succeeds', async () => {
    const execution = await run((signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve('cleaned up'))));
    expect(execution).toMatchObject({ ok: true, value: 'cleaned up' });
  });

  it('records a soft-time-limit error when the task gives up on its signal', async () => {
    const execution = await run((signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    expect(execution.ok).toBe(false);
    expect(!execution.ok && execution.error).toBeInstanceOf(SoftTimeLimitExceeded);
  });

  it('treats an AbortError after the soft limit as the soft limit', async () => {
    const execution = await run((signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))));
    expect(!execution.ok && execution.error).toBeInstanceOf(SoftTimeLimitExceeded);
  });

  it('stops waiting at the hard limit for a task that ignores its signal', async () => {
    const execution = await run(() => new Promise(() => undefined));
    expect(!execution.ok && execution.error).toBeInstanceOf(TimeLimitExceeded);
    expect(execution.runtimeMs).toBeGreaterThanOrEqual(190);
  });

  it('turns a thrown non-error into an Error', async () => {
    const execution = await run(() => {
      throw 'plain string';
    });
    expect(!execution.ok && execution.error.message).toBe('plain string');
  });
});

describe('reasonOf', () => {
  it("gives the service's reason for a failed statement, not the statement's text", () => {
    const service = Object.assign(new Error('Database returned more than the allowed response size limit'), { name: 'BadRequestException' });
    const failed = new Error('Failed query: select id, name from task_results\nparams: ', { cause: service });

    expect(reasonOf(failed)).toBe('BadRequestException: Database returned more than the allowed response size limit');
    expect(reasonOf(new Error('Failed query: select 1\nparams: '))).toBe('a database statement failed and gave no reason');
    expect(reasonOf(new Error('no task t-1'))).toBe('no task t-1');
    expect(reasonOf('plain')).toBe('plain');
  });
});
