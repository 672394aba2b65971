import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../shared/local/dashboard/server.ts';
import { TaskOperations } from '../../shared/operations/index.ts';
import { redriveDeadLetters } from '../../shared/operations/dead-letters.ts';
import { failureAttributes } from '../../shared/runtime/queue-actions.ts';
import { envelope, sendBodies, startConsumer } from '../support/consumer.ts';
import { databaseKind, openTestDatabase, taskRow } from '../support/database.ts';
import { createTestQueue, startEmulator } from '../support/emulator.ts';
import { testImplementations, type Journal } from '../support/tasks.ts';
import { waitFor } from '../support/wait.ts';

/** SQS's 1 MiB per message and per batch, counted as SQS counts it, on every path that sends. */
describe(`SQS's size limits on dead-lettering and redrive (${databaseKind})`, () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;

  beforeAll(async () => {
    emulator = await startEmulator();
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
    await emulator?.stop();
  });

  const visible = async (queueUrl: string) => {
    const { Attributes = {} } = await emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return { visible: Number(Attributes.ApproximateNumberOfMessages), hidden: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
  };
  const receiveAll = async (queueUrl: string) => {
    const { Messages = [] } = await emulator.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }));
    return Messages;
  };

  it('dead-letters two poison messages carrying large binary attributes at once, beside a sibling that succeeds', async () => {
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    // Each poison message is within 150 bytes of the limit: its binary attribute is 786,300 bytes, 1,048,400 as base64.
    const blob = Buffer.alloc(786_300, 7);
    for (const body of ['{"not": "an envelope"', '{"also": "broken"']) {
      await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body, MessageAttributes: { blob: { DataType: 'Binary', BinaryValue: blob } } }));
    }
    const sibling = envelope('default.test_record', { n: 1 });
    await sendBodies(emulator.sqs, queue.url, [JSON.stringify(sibling)]);
    const journal: Journal = new Map();
    const consumer = startConsumer({ sqs: emulator.sqs, queue, database: db.database, implementations: testImplementations(journal) });
    try {
      await waitFor(async () => (await taskRow(db.database, sibling.id))?.status === 'SUCCESS' && (await visible(queue.deadLetterUrl)).visible === 2, 20_000, 'the sibling and both dead letters');
    } finally {
      await consumer.stop();
    }

    expect(await visible(queue.url)).toEqual({ visible: 0, hidden: 0 });
    const letters = await receiveAll(queue.deadLetterUrl);
    expect(letters).toHaveLength(2);
    for (const letter of letters) {
      // The message's own attribute is kept, so a redrive replays it as it was; the failure is in the result store.
      expect(Buffer.from(letter.MessageAttributes!.blob!.BinaryValue!).equals(blob)).toBe(true);
      expect(letter.MessageAttributes![failureAttributes.reason]).toBeUndefined();
    }
    expect(consumer.invocations.every((invocation) => invocation.failed === 0)).toBe(true);
  });

  it('redrives four 300 KB dead letters, split into batches SQS accepts', async () => {
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const tasks = Array.from({ length: 4 }, (_, n) => envelope('default.test_record', { n }));
    // Dead letters as a consumer may leave them: whatever their body held, here 300 KB of it.
    for (const task of tasks) await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queue.deadLetterUrl, MessageBody: JSON.stringify({ ...task, padding: 'x'.repeat(300_000) }) }));

    const outcome = await redriveDeadLetters(emulator.sqs, { deadLetterUrl: queue.deadLetterUrl, queueUrl: queue.url, taskIds: tasks.map((task) => task.id) });

    expect(outcome).toEqual({ moved: 4, method: 'receive-send-delete', unmoved: [] });
    expect(await visible(queue.deadLetterUrl)).toEqual({ visible: 0, hidden: 0 });
    expect((await visible(queue.url)).visible).toBe(4);
  });

  it('says which dead letter could not be moved and why, and leaves it visible in the dead-letter queue', async () => {
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const small = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30, maximumMessageSize: 1024 });
    const fits = envelope('default.test_record', { n: 1 });
    const tooLarge = envelope('default.test_record', { n: 2 });
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queue.deadLetterUrl, MessageBody: JSON.stringify(fits) }));
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queue.deadLetterUrl, MessageBody: JSON.stringify({ ...tooLarge, padding: 'y'.repeat(2_000) }) }));

    const outcome = await redriveDeadLetters(emulator.sqs, { deadLetterUrl: queue.deadLetterUrl, queueUrl: small.url, taskIds: [fits.id, tooLarge.id] });

    expect(outcome.moved).toBe(1);
    expect(outcome.unmoved).toEqual([{ messageId: expect.any(String), taskId: tooLarge.id, reason: expect.stringMatching(/shorter than 1024 bytes/) }]);
    expect(await visible(queue.deadLetterUrl)).toEqual({ visible: 1, hidden: 0 });
  });

  it('refuses a redrive whose taskIds is not an array of ids, and moves nothing', async () => {
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const letter = envelope('default.test_record', { n: 1 });
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queue.deadLetterUrl, MessageBody: JSON.stringify(letter) }));
    const operations = new TaskOperations({ sqs: emulator.sqs, database: db.database, queues: { default: { url: queue.url, deadLetterUrl: queue.deadLetterUrl } }, longDelays: null });
    const dashboard = await startDashboard(operations, 0);
    try {
      for (const taskIds of ['x', [], [1, 2], { id: 'x' }, null]) {
        const response = await fetch(`${dashboard.url}/api/dlq/default/redrive`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ taskIds }) });
        expect(response.status, JSON.stringify(taskIds)).toBe(400);
        expect(await response.text()).toContain('taskIds must be a non-empty array of task ids');
      }
    } finally {
      await dashboard.stop();
    }
    expect(await visible(queue.deadLetterUrl)).toEqual({ visible: 1, hidden: 0 });
  });
});
