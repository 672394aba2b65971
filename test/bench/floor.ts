/**
 * The floor under the consumer: what the emulator gives a client that does no work at
 * all. `concurrency` loops each receive up to `batchSize` messages with a 20 s long poll
 * (asking for the same attributes as the poller) and delete them with one
 * DeleteMessageBatch, until `tasks` messages are gone.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { emulatorClient } from './emulator.ts';
import type { Progress } from './figures.ts';
import { countSqsRequests, type RequestCount } from './round-trips.ts';

export interface FloorResult {
  readonly seconds: number;
  readonly tasksPerSecond: number;
  readonly requests: RequestCount;
}

export async function drainBare(options: {
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly tasks: number;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly progress?: Progress;
  readonly phase?: string;
}): Promise<FloorResult> {
  const { queueUrl, tasks, batchSize } = options;
  const sqs = emulatorClient(options.endpoint);
  const requests = countSqsRequests(sqs);
  const done = new AbortController();
  let deleted = 0;
  let finished = 0;
  const loop = async () => {
    while (!done.signal.aborted) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: batchSize, WaitTimeSeconds: 20, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
          { abortSignal: done.signal },
        ));
      } catch (error) {
        if (done.signal.aborted) return;
        throw error;
      }
      if (messages.length === 0) continue;
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle! })) }));
      deleted += messages.length;
      options.progress?.(options.phase ?? 'floor', deleted, tasks);
      if (deleted >= tasks) {
        finished = performance.now();
        done.abort();
      }
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: options.concurrency }, loop));
  } finally {
    done.abort();
    sqs.destroy();
  }
  const seconds = (finished - started) / 1000;
  return { seconds, tasksPerSecond: tasks / seconds, requests };
}
