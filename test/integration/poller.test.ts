import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventSourcePoller } from '../../shared/local/poller.ts';
import { sendBodies } from '../support/consumer.ts';
import { createTestQueue, region, startEmulator, type TestQueue } from '../support/emulator.ts';
import { waitFor } from '../support/wait.ts';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.stop();
});

async function inFlight(queue: TestQueue): Promise<number> {
  const response = await emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }));
  return Number(response.Attributes?.ApproximateNumberOfMessagesNotVisible);
}

it('runs at most maxConcurrency invocations, receives the next batches while they run, and deletes what succeeded', async () => {
  const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
  await sendBodies(emulator.sqs, queue.url, Array.from({ length: 60 }, (_, n) => JSON.stringify({ n })));
  let running = 0;
  let mostAtOnce = 0;
  const handled: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const poller = new EventSourcePoller({
    sqs: emulator.sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    region,
    functionName: 'poller-test',
    handler: async (event: SQSEvent) => {
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await gate;
      running--;
      handled.push(...event.Records.map((record) => (JSON.parse(record.body) as { n: number }).n));
      // The first message of each batch fails: it stays on the queue.
      return { batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] };
    },
    batchSize: 10,
    batchingWindowSeconds: 0,
    maxConcurrency: 2,
    timeoutSeconds: 30,
    waitTimeSeconds: 1,
  });
  poller.start();
  try {
    // Both slots busy, and each poller already holds its next batch: 4 batches in flight.
    await waitFor(async () => (await inFlight(queue)) === 40, 10_000, 'the next batches to be received while both invocations run');
    expect(running).toBe(2);
    release();
    await waitFor(() => handled.length === 60, 10_000, 'every batch to be handled');
    expect(mostAtOnce).toBe(2);
    expect(handled.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, n) => n));
    // Only the 6 failed messages remain, in flight until their visibility timeout.
    await waitFor(async () => (await inFlight(queue)) === 6, 10_000, 'the succeeded messages to be deleted');
  } finally {
    release();
    await poller.stop();
  }
});

it("pauses as a disabled event source mapping: invocations under way finish, nothing more is received, and a long poll's late catch goes back at once", async () => {
  const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 60 });
  const visible = async () => Number((await emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages);
  const handled: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const poller = new EventSourcePoller({
    sqs: emulator.sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    region,
    functionName: 'poller-pause-test',
    handler: async (event: SQSEvent) => {
      if (event.Records.some((record) => record.body === 'first')) await gate;
      handled.push(...event.Records.map((record) => record.body));
      return { batchItemFailures: [] };
    },
    batchSize: 1,
    batchingWindowSeconds: 0,
    maxConcurrency: 2,
    timeoutSeconds: 30,
    // Long polls that outlast the pause: what they receive afterwards must not be lost for the visibility timeout.
    waitTimeSeconds: 3,
  });
  poller.start();
  try {
    await sendBodies(emulator.sqs, queue.url, ['first']);
    await waitFor(async () => (await inFlight(queue)) === 1, 10_000, 'the first message to be running');
    poller.pause();
    expect(poller.state).toBe('Disabled');
    await sendBodies(emulator.sqs, queue.url, ['second', 'third']);
    release();
    await waitFor(() => handled.includes('first'), 10_000, 'the invocation under way to finish');
    // Past every long poll that was waiting when the pause came, the two stay on the queue, visible.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(await visible()).toBe(2);
    expect(handled).toEqual(['first']);

    poller.resume();
    expect(poller.state).toBe('Enabled');
    await waitFor(() => handled.length === 3, 10_000, 'the waiting messages to run after the resume');
    expect(handled.toSorted()).toEqual(['first', 'second', 'third']);
  } finally {
    release();
    await poller.stop();
  }
});
