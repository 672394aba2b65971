import * as z from 'zod';
import { defineQueue, defineTask } from '../../shared/catalogue/index.ts';
import { setTimeout } from 'node:timers/promises';
import { implement, retry } from '../../shared/runtime/task.ts';

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
  add: defineTask({
    name: 'default.test_add',
    queue: 'default',
    description: 'returns x + y (a chain step takes x from the step before)',
    payload: z.strictObject({ x: z.number(), y: z.number() }),
    retry: quickRetry,
    ...limits,
  }),
  sum: defineTask({
    name: 'default.test_sum',
    queue: 'default',
    description: "adds up a chord's results",
    payload: z.strictObject({ results: z.array(z.number()), label: z.string().optional() }),
    retry: quickRetry,
    ...limits,
  }),
  onError: defineTask({
    name: 'default.test_on_error',
    queue: 'default',
    description: 'an error callback: returns the failure it is given',
    payload: z.strictObject({ failure: z.strictObject({ taskId: z.string(), task: z.string(), error: z.string() }), label: z.string().optional() }),
    retry: quickRetry,
    ...limits,
  }),
  sleep: defineTask({
    name: 'default.test_sleep',
    queue: 'default',
    description: 'works for `ms`, checking its signal every 50 ms unless told to ignore it',
    payload: z.strictObject({ ms: z.int().min(0), ignoreSignal: z.boolean().optional() }),
    retry: { ...quickRetry, maxRetries: 0 },
    ...limits,
  }),
  exclusive: defineTask({
    name: 'default.test_exclusive',
    queue: 'default',
    description: 'works for `ms`; at most two run at once per account',
    payload: z.strictObject({ account: z.string(), ms: z.int().min(0) }),
    retry: { ...quickRetry, maxRetries: 0 },
    concurrency: { key: 'account', limit: 2 },
    ...limits,
  }),
  unique: defineTask({
    name: 'default.test_unique',
    queue: 'default',
    description: 'records its run; one per account in any 5 seconds',
    payload: z.strictObject({ account: z.string(), note: z.string().optional() }),
    retry: quickRetry,
    unique: '5s',
    dedupeKey: ['account'],
    ...limits,
  }),
  debounced: defineTask({
    name: 'default.test_debounced',
    queue: 'default',
    description: 'records its run; only the last of an account runs, after 2 quiet seconds',
    payload: z.strictObject({ account: z.string(), n: z.int() }),
    retry: quickRetry,
    debounce: '2s',
    dedupeKey: ['account'],
    ...limits,
  }),
  retryLater: defineTask({
    name: 'default.test_retry_later',
    queue: 'default',
    description: 'asks for a retry in `countdown` seconds on its first attempt',
    payload: z.strictObject({ countdown: z.int().min(1) }),
    retry: quickRetry,
    ...limits,
  }),
  oddOutput: defineTask({
    name: 'default.test_odd_output',
    queue: 'default',
    description: 'returns (or throws, when `fail`) text with NUL and a lone surrogate, which PostgreSQL cannot store',
    payload: z.strictObject({ fail: z.boolean() }),
    retry: { ...quickRetry, maxRetries: 0 },
    ...limits,
  }),
  limited: defineTask({
    name: 'default.test_limited',
    queue: 'default',
    description: 'a no-op held to 5 starts a second across consumers',
    payload: z.strictObject({ n: z.int() }),
    retry: quickRetry,
    rateLimit: '5/s',
    ...limits,
  }),
  text: defineTask({
    name: 'default.test_text',
    queue: 'default',
    description: 'returns `chars` characters, or throws an error of that length with a traceback ten times as long',
    payload: z.strictObject({ chars: z.int().min(0), fail: z.boolean().optional(), results: z.array(z.unknown()).optional() }),
    retry: { ...quickRetry, maxRetries: 0 },
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
    implement(testTaskDefinitions.add, ({ x, y }, { id }) => {
      note(id).end = Date.now();
      return x + y;
    }),
    implement(testTaskDefinitions.sum, ({ results }, { id }) => {
      note(id).end = Date.now();
      return results.reduce((total, n) => total + n, 0);
    }),
    implement(testTaskDefinitions.onError, ({ failure }, { id }) => {
      note(id).end = Date.now();
      return failure;
    }),
    implement(testTaskDefinitions.sleep, async ({ ms, ignoreSignal }, { id, signal }) => {
      const run = note(id);
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (!ignoreSignal) signal.throwIfAborted();
        await setTimeout(50);
      }
      run.end = Date.now();
      return { slept: ms };
    }),
    implement(testTaskDefinitions.exclusive, async ({ ms }, { id }) => {
      const run = note(id);
      await setTimeout(ms);
      run.end = Date.now();
      return { slept: ms };
    }),
    implement(testTaskDefinitions.unique, ({ account }, { id }) => {
      note(id).end = Date.now();
      return { account };
    }),
    implement(testTaskDefinitions.debounced, ({ n }, { id }) => {
      note(id).end = Date.now();
      return { n };
    }),
    implement(testTaskDefinitions.retryLater, ({ countdown }, { id, attempt }) => {
      note(id).end = Date.now();
      if (attempt === 1) throw retry({ countdown, reason: 'not yet' });
      return { attempt };
    }),
    implement(testTaskDefinitions.oddOutput, ({ fail }, { id }) => {
      note(id).end = Date.now();
      if (fail) throw new Error('bad \u0000 byte and \ud800 half');
      return { text: 'a\u0000b', lone: '\udc00', 'key\u0000': 1 };
    }),
    implement(testTaskDefinitions.limited, ({ n }, { id }) => {
      note(id).end = Date.now();
      return n;
    }),
    implement(testTaskDefinitions.text, ({ chars, fail, results }, { id }) => {
      note(id).end = Date.now();
      if (fail) {
        const error = new Error('e'.repeat(chars));
        error.stack = `Error: ${'t'.repeat(chars * 10)}`;
        throw error;
      }
      // A chord's callback tells the lengths of what its members returned.
      if (results) return results.map((result) => String(result).length);
      return 'x'.repeat(chars);
    }),
  ];
}
