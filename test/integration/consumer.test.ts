import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffCeilingSeconds } from '../../shared/runtime/backoff.ts';
import { failureAttributes } from '../../shared/runtime/queue-actions.ts';
import { databaseKind, openTestDatabase, taskRow, taskRows } from '../support/database.ts';
import { createTestQueue, startEmulator, type TestQueue } from '../support/emulator.ts';
import { envelope, sendBodies, startConsumer } from '../support/consumer.ts';
import { testImplementations, testTaskDefinitions, type Journal } from '../support/tasks.ts';
import { waitFor } from '../support/wait.ts';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
type TestDatabase = Awaited<ReturnType<typeof openTestDatabase>>;

describe(`consumer on the SQS emulator and ${databaseKind}`, () => {
  let emulator: Emulator;
  let db: TestDatabase;
  let queue: TestQueue;
  let journal: Journal;
  let consumer: ReturnType<typeof startConsumer> | undefined;

  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });
  beforeEach(async () => {
    db = await openTestDatabase();
    queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    journal = new Map();
  });
  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
    await db.close();
  });

  const start = (batchSize?: number) =>
    (consumer = startConsumer({ sqs: emulator.sqs, queue, database: db.database, implementations: testImplementations(journal), ...(batchSize ? { batchSize } : {}) }));

  const settled = (id: string, status: string) =>
    waitFor(async () => {
      const row = await taskRow(db.database, id);
      return row?.status === status ? row : undefined;
    }, 20_000, `${id} to be ${status}`);

  async function deadLetters() {
    const response = await emulator.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    return response.Messages ?? [];
  }

  async function queueIsEmpty() {
    const response = await emulator.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
    );
    const a = response.Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) + Number(a.ApproximateNumberOfMessagesDelayed) === 0;
  }

  it('retries a task that fails twice, within the jittered back-off, and records SUCCESS on attempt 3', async () => {
    const task = envelope('default.test_flaky', { failures: 2 });
    start();
    await sendBodies(emulator.sqs, queue.url, [JSON.stringify(task)]);

    const row = await settled(task.id, 'SUCCESS');

    expect(row).toMatchObject({ attempts: 3, error: null });
    expect(JSON.parse(row.result!)).toEqual({ attempt: 3 });
    const runs = journal.get(task.id)!;
    expect(runs).toHaveLength(3);
    for (const retry of [1, 2]) {
      const waited = (runs[retry]!.start - runs[retry - 1]!.end!) / 1000;
      const ceiling = backoffCeilingSeconds(testTaskDefinitions.flaky.retry, retry);
      // The back-off is drawn from [0, ceiling]; a long-poll cycle and the batching window come on top.
      expect(waited).toBeGreaterThanOrEqual(0);
      expect(waited).toBeLessThanOrEqual(ceiling + 2.5);
    }
    await waitFor(queueIsEmpty, 5_000, 'the queue to drain');
  });

  it('dead-letters a task that always fails after exactly maxRetries + 1 attempts, with a FAILURE row', async () => {
    const task = envelope('app.tasks.test_tasks.always_fails', {});
    start();
    await sendBodies(emulator.sqs, queue.url, [JSON.stringify(task)]);

    const row = await settled(task.id, 'FAILURE');

    const maxAttempts = testTaskDefinitions.alwaysFails.retry.maxRetries + 1;
    expect(row.attempts).toBe(maxAttempts);
    expect(row.name).toBe('default.test_always_fails');
    expect(row.error).toContain('retries exhausted after 3 attempts: TypeError: this task always fails');
    expect(row.traceback).toContain('TypeError: this task always fails');
    expect(journal.get(task.id)).toHaveLength(maxAttempts);
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
});
