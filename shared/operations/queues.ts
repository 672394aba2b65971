import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueName } from '../catalogue/index.ts';

export interface QueueEndpoints {
  readonly url: string;
  readonly deadLetterUrl: string;
}

export interface QueueDepth {
  readonly queue: QueueName;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLetters: number;
  /** Age of the oldest waiting message, when the endpoint can tell. */
  readonly oldestAgeSeconds: number | null;
}

const counts = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

/** Depth of every queue and its dead-letter queue. */
export async function queueDepths(
  sqs: SQSClient,
  queues: Readonly<Partial<Record<QueueName, QueueEndpoints>>>,
  oldestAge: (queue: QueueName) => Promise<number | null> = async () => null,
): Promise<QueueDepth[]> {
  return Promise.all(
    (Object.entries(queues) as [QueueName, QueueEndpoints][]).map(async ([queue, endpoints]) => {
      const [source, dead, oldest] = await Promise.all([
        sqs.send(new GetQueueAttributesCommand({ QueueUrl: endpoints.url, AttributeNames: [...counts] })),
        sqs.send(new GetQueueAttributesCommand({ QueueUrl: endpoints.deadLetterUrl, AttributeNames: ['ApproximateNumberOfMessages'] })),
        oldestAge(queue),
      ]);
      const a = source.Attributes ?? {};
      return {
        queue,
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
        deadLetters: Number(dead.Attributes?.ApproximateNumberOfMessages ?? 0),
        oldestAgeSeconds: oldest,
      };
    }),
  );
}
