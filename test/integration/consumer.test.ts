import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { findTask } from '../../shared/results/queries.ts';
import { backoffCeilingSeconds, retryDelaySeconds } from '../../shared/runtime/backoff.ts';
import { failureAttributes } from '../../shared/runtime/queue-actions.ts';
import { createMetrics, serviceName, taskMetrics } from '../../shared/observability/index.ts';
import { databaseKind, taskRow, taskRows } from '../support/database.ts';
import { emulatorSuite } from '../support/emulator-suite.ts';
import { envelope, sendBodies } from '../support/consumer.ts';
import { testTaskDefinitions } from '../support/tasks.ts';
import { waitFor } from '../support/wait.ts';

describe(`consumer on the SQS emulator and ${databaseKind}`, () => {
  const suite = emulatorSuite();
  const start = (batchSize?: number) => suite.start(batchSize ? { batchSize } : {});

  const settled = (id: string, status: string) =>
    waitFor(async () => {
      const row = await taskRow(suite.db.database, id);
      return row?.status === status ? row : undefined;
    }, 20_000, `${id} to be ${status}`);

  async function deadLetters() {
    const response = await suite.emulator.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: suite.queue.deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    return response.Messages ?? [];
  }

  async function queueIsEmpty() {
    const response = await suite.emulator.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: suite.queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
    );
    const a = response.Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) + Number(a.ApproximateNumberOfMessagesDelayed) === 0;
  }

  it('retries a task that fails twice after its jittered back-offs, and records SUCCESS on attempt 3', async () => {
    const task = envelope('default.test_flaky', { failures: 2 });
    const draws: number[] = [];
    suite.start({
      random: () => draws[draws.push(Math.random()) - 1]!,
    });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await settled(task.id, 'SUCCESS');

    expect(row).toMatchObject({ attempts: 3, error: null });
    expect(JSON.parse(row.result!)).toEqual({ attempt: 3 });
    const runs = suite.journal.get(task.id)!;
    expect(runs).toHaveLength(3);
    expect(draws).toHaveLength(2);
    for (const retry of [1, 2]) {
      const ceiling = backoffCeilingSeconds(testTaskDefinitions.flaky.retry, retry);
      const delay = retryDelaySeconds(testTaskDefinitions.flaky.retry, retry, () => draws[retry - 1]!);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(ceiling);
      // The message stayed hidden for its back-off; receiving and the batching window come on top.
      const waited = (runs[retry]!.start - runs[retry - 1]!.end!) / 1000;
      expect(waited).toBeGreaterThanOrEqual(delay - 0.05);
      expect(waited).toBeLessThanOrEqual(delay + 4);
    }
    const attempts = await suite.db.database.rows<{ attempt: number; status: string; error: string | null; runtime_ms: number | null; finished: boolean }>(
      sql`select attempt, status, error, runtime_ms, finished_at >= started_at as finished from task_attempts where task_id = ${task.id} order by attempt`,
    );
    expect(attempts).toEqual([
      { attempt: 1, status: 'RETRY', error: 'Error: planned failure 1 of 2', runtime_ms: expect.any(Number), finished: true },
      { attempt: 2, status: 'RETRY', error: 'Error: planned failure 2 of 2', runtime_ms: expect.any(Number), finished: true },
      { attempt: 3, status: 'SUCCESS', error: null, runtime_ms: expect.any(Number), finished: true },
    ]);
    await waitFor(queueIsEmpty, 5_000, 'the queue to drain');
  });

  it('dead-letters a task that always fails after exactly maxRetries + 1 attempts, with a FAILURE row', async () => {
    const task = envelope('app.tasks.test_tasks.always_fails', {});
    start();
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await settled(task.id, 'FAILURE');

    const maxAttempts = testTaskDefinitions.alwaysFails.retry.maxRetries + 1;
    expect(row.attempts).toBe(maxAttempts);
    expect(row.name).toBe('default.test_always_fails');
    expect(row.error).toContain('retries exhausted after 3 attempts: TypeError: this task always fails');
    expect(row.traceback).toContain('TypeError: this task always fails');
    expect(suite.journal.get(task.id)).toHaveLength(maxAttempts);
    const [letter, ...others] = await waitFor(async () => {
      const letters = await deadLetters();
      return letters.length > 0 ? letters : undefined;
    }, 10_000, 'a dead letter');
    expect(others).toHaveLength(0);
    expect(JSON.parse(letter!.Body!)).toEqual(task);
    expect(letter!.MessageAttributes?.[failureAttributes.reason]?.StringValue).toContain('retries exhausted');
    expect(letter!.MessageAttributes?.[failureAttributes.taskId]?.StringValue).toBe(task.id);
    await waitFor(queueIsEmpty, 5_000, 'the queue to drain');
  });

  it.each([
    ['invalid JSON', () => '{"v": 1, "id": "broken', 'invalid JSON'],
    ['an unknown task', () => JSON.stringify(envelope('default.no_such_task', {})), "unknown task 'default.no_such_task'"],
    ['a payload that fails its schema', () => JSON.stringify(envelope('default.test_record', { n: 'one' })), 'invalid payload for default.test_record: n:'],
  ])('dead-letters %s on its first delivery while the 9 valid messages of its batch succeed', async (_kind, makePoison, reason) => {
    const poison = makePoison();
    const valid = Array.from({ length: 9 }, (_, n) => envelope('default.test_record', { n }));
    const bodies = valid.map((task) => JSON.stringify(task));
    bodies.splice(4, 0, poison);
    await sendBodies(suite.emulator.sqs, suite.queue.url, bodies);
    const { invocations } = start();

    await waitFor(queueIsEmpty, 15_000, 'the queue to drain');

    expect(invocations).toEqual([expect.objectContaining({ records: 10, failed: 0, outcome: 'ok' })]);
    const rows = await taskRows(suite.db.database);
    expect(rows.filter((row) => row.status === 'SUCCESS').map((row) => row.id).sort()).toEqual(valid.map((task) => task.id).sort());
    const [rejected, ...more] = rows.filter((row) => row.status === 'FAILURE');
    expect(more).toHaveLength(0);
    expect(rejected!.error).toContain(reason);
    expect(rejected!.attempts).toBe(0);
    const [letter, ...others] = await deadLetters();
    expect(others).toHaveLength(0);
    expect(letter!.Body).toBe(poison);
    expect(letter!.MessageAttributes?.[failureAttributes.reason]?.StringValue).toContain(reason);
  });

  it('acknowledges a duplicate delivery of a finished task without running it again', async () => {
    const task = envelope('default.test_record', { n: 7 });
    start();
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);
    await settled(task.id, 'SUCCESS');

    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task), JSON.stringify(task)]);
    await waitFor(queueIsEmpty, 15_000, 'the duplicates to be acknowledged');

    expect(suite.journal.get(task.id)).toHaveLength(1);
    expect(await taskRow(suite.db.database, task.id)).toMatchObject({ status: 'SUCCESS', attempts: 1 });
    expect(await deadLetters()).toHaveLength(0);
  });

  it('runs a task once when the same message arrives twice in one batch', async () => {
    const task = envelope('default.test_record', { n: 8 });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task), JSON.stringify(task)]);
    start();

    await waitFor(queueIsEmpty, 15_000, 'the queue to drain');

    expect(suite.journal.get(task.id)).toHaveLength(1);
    expect(await taskRow(suite.db.database, task.id)).toMatchObject({ status: 'SUCCESS', attempts: 1 });
  });

  it('still runs a valid task when a rejected message of its batch claims the same id', async () => {
    const task = envelope('default.test_record', { n: 3 });
    const impostor = JSON.stringify({ ...task, payload: { n: 'three' } });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [impostor, JSON.stringify(task)]);
    start();

    await waitFor(queueIsEmpty, 15_000, 'the queue to drain');

    expect(suite.journal.get(task.id)).toHaveLength(1);
    const rows = await taskRows(suite.db.database);
    expect(rows.find((row) => row.id === task.id)).toMatchObject({ status: 'SUCCESS' });
    expect(rows.find((row) => row.id !== task.id)).toMatchObject({ status: 'FAILURE', error: expect.stringContaining('invalid payload') });
  });

  it('spends at most 2 SQL statements on a batch of 10 successful tasks, the run-time policies read at most once per refresh', async () => {
    const { invocations } = suite.start({ policyRefreshMs: 60_000 });
    // The first batch also reads the operators' policy changes (taskq control), kept for the refresh period.
    const first = envelope('default.test_record', { n: -1 });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(first)]);
    await waitFor(queueIsEmpty, 15_000, 'the first batch to finish');
    const before = suite.db.counter.statements;

    const batch = Array.from({ length: 10 }, (_, n) => envelope('default.test_record', { n }));
    await sendBodies(suite.emulator.sqs, suite.queue.url, batch.map((task) => JSON.stringify(task)));
    await waitFor(queueIsEmpty, 15_000, 'the batch to finish');
    const statements = suite.db.counter.statements - before;

    expect(invocations).toEqual([expect.objectContaining({ records: 1, failed: 0 }), expect.objectContaining({ records: 10, failed: 0 })]);
    expect(before).toBeLessThanOrEqual(3);
    expect(statements).toBeLessThanOrEqual(2);
    expect((await taskRows(suite.db.database)).map((row) => row.status)).toEqual(Array(11).fill('SUCCESS'));
    // A first-time success writes no attempt row, yet its history shows the attempt.
    expect(await suite.db.database.rows(sql`select * from task_attempts`)).toEqual([]);
    const detail = await findTask(suite.db.database, batch[0]!.id);
    expect(detail!.attemptHistory).toEqual([expect.objectContaining({ attempt: 1, status: 'SUCCESS', error: null, startedAt: detail!.startedAt, finishedAt: detail!.dateDone })]);
  });

  it('revokes an expired task at pick-up without running it', async () => {
    const task = envelope('default.test_record', { n: 1 }, { expires: new Date(Date.now() - 1000).toISOString() });
    start();
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await settled(task.id, 'REVOKED');

    expect(row.error).toBe('expired');
    expect(suite.journal.get(task.id)).toBeUndefined();
  });

  it('logs structured JSON per outcome (successes in one line per task name and batch) and emits EMF metrics per task name with task and queue dimensions', async () => {
    const lines: string[] = [];
    // Powertools writes INFO and EMF to stdout, WARN and ERROR to stderr.
    const streams = [process.stdout, process.stderr] as const;
    const writes = streams.map((stream) => stream.write);
    for (const stream of streams) stream.write = ((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0) as typeof stream.write;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const ok = envelope('default.test_record', { n: 1 });
    const flaky = envelope('default.test_flaky', { failures: 1 });
    try {
      await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(ok), JSON.stringify(flaky), 'not json']);
      const consumer = suite.start({
        logger: new Logger({ serviceName, persistentKeys: { queue: 'default' }, logLevel: 'INFO' }),
        metrics: createMetrics('default'),
      });
      await settled(flaky.id, 'SUCCESS');
      await consumer.stop();
    } finally {
      streams.forEach((stream, index) => (stream.write = writes[index]!));
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    }

    const documents = lines.flatMap((line) => line.split('\n')).filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    // Successes share one line per task name in a batch, each task an entry of it.
    const succeeded = documents.find((d) => d.message === 'tasks succeeded' && (d.tasks as { taskId: string }[]).some((t) => t.taskId === ok.id));
    expect(succeeded).toMatchObject({ level: 'INFO', task: 'default.test_record', queue: 'default', state: 'SUCCESS', function_name: expect.any(String) });
    expect((succeeded!.tasks as { taskId: string }[]).find((t) => t.taskId === ok.id)).toEqual({ taskId: ok.id, runtimeMs: expect.any(Number) });
    // A success after a retry names its attempt.
    const entries = documents.filter((d) => d.message === 'tasks succeeded').flatMap((d) => d.tasks as { taskId: string }[]);
    expect(entries.find((t) => t.taskId === flaky.id)).toEqual({ taskId: flaky.id, runtimeMs: expect.any(Number), attempt: 2 });
    expect(documents.find((d) => d.message === 'task failed; retrying')).toMatchObject({ taskId: flaky.id, attempt: 1, state: 'RETRY', error: 'Error: planned failure 1 of 1' });
    expect(documents.find((d) => d.message === 'message rejected')).toMatchObject({ level: 'ERROR', reason: expect.stringMatching(/^invalid JSON/) });

    const emf = documents.filter((d) => d._aws);
    const metricsOf = (task: string) => emf.filter((d) => d.task === task).flatMap((d) => (d._aws as { CloudWatchMetrics: { Metrics: { Name: string }[]; Dimensions: string[][] }[] }).CloudWatchMetrics);
    const names = (task: string) => new Set(metricsOf(task).flatMap((m) => m.Metrics.map((metric) => metric.Name)));
    expect(names('default.test_record')).toEqual(new Set([taskMetrics.succeeded, taskMetrics.duration, taskMetrics.attempts]));
    expect(names('default.test_flaky')).toEqual(new Set([taskMetrics.retried, taskMetrics.succeeded, taskMetrics.duration, taskMetrics.attempts]));
    expect(names('unknown')).toEqual(new Set([taskMetrics.rejected]));
    for (const metric of metricsOf('default.test_record')) expect(metric.Dimensions[0]).toEqual(expect.arrayContaining(['queue', 'task']));
    expect(emf.every((d) => d.queue === 'default')).toBe(true);
  });
});
