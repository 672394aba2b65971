import { z } from 'zod';
import { defineQueue, defineTask } from '../../shared/catalogue/index.ts';
import { implement } from '../../shared/runtime/task.ts';

/** The `default` queue with short limits, so retries and time-outs play out in seconds. */
export const testQueueDefinition = defineQueue({
  name: 'default',
  description: 'test queue',
  timeoutSeconds: 4,
  batchSize: 10,
  batchingWindowSeconds: 1,
  maxConcurrency: 2,
  memoryMb: 512,
  oldestMessageAlarmSeconds: 60,
});

const quickRetry = { maxRetries: 2, backoffBaseSeconds: 1, backoffMaxSeconds: 2, jitter: true } as const;
const limits = { softTimeLimitSeconds: 2, timeLimitSeconds: 3 } as const;

export const testTaskDefinitions = {
  flaky: defineTask({
    name: 'default.test_flaky',
    queue: 'default',
    description: 'fails its first `failures` attempts, then succeeds',
    payload: z.strictObject({ failures: z.int().min(0) }),
    retry: quickRetry,
    ...limits,
  }),
  alwaysFails: defineTask({
    name: 'default.test_always_fails',
    alias: 'app.tasks.test_tasks.always_fails',
    queue: 'default',
    description: 'always throws',
    payload: z.strictObject({}),
    retry: quickRetry,
    ...limits,
  }),
  record: defineTask({
    name: 'default.test_record',
    queue: 'default',
    description: 'returns its input',
    payload: z.strictObject({ n: z.int() }),
    retry: quickRetry,
    ...limits,
  }),
};

/** Each run of a test task, by task id: when it started and ended. */
export type Journal = Map<string, { start: number; end?: number }[]>;

/** Test tasks that write what they do into `journal`. */
export function testImplementations(journal: Journal) {
  const note = (id: string) => {
    const runs = journal.get(id) ?? [];
    const run: { start: number; end?: number } = { start: Date.now() };
    runs.push(run);
    journal.set(id, runs);
    return run;
  };
  return [
    implement(testTaskDefinitions.flaky, (payload, { id, attempt }) => {
      const run = note(id);
      run.end = Date.now();
      if (attempt <= payload.failures) throw new Error(`planned failure ${attempt} of ${payload.failures}`);
      return { attempt };
    }),
    implement(testTaskDefinitions.alwaysFails, (_payload, { id }) => {
      note(id).end = Date.now();
      throw new TypeError('this task always fails');
    }),
    implement(testTaskDefinitions.record, (payload, { id }) => {
      note(id).end = Date.now();
      return { n: payload.n };
    }),
  ];
}
