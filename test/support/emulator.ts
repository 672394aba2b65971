import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import '../../shared/local/fauxqs-fixes.ts';
import { randomUUID } from 'node:crypto';

export const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The embedded SQS emulator on a free port, with a real SDK client pointed at it. */
export async function startEmulator() {
  const server = await startFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sqs = new SQSClient({ endpoint, region, credentials });
  return {
    endpoint,
    sqs,
    async stop() {
      sqs.destroy();
      await server.stop();
    },
  };
}

export interface TestQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
}

/** A fresh queue and dead-letter queue, created through the SDK with the given attributes. */
export async function createTestQueue(
  sqs: SQSClient,
  options: { visibilityTimeoutSeconds: number; maxReceiveCount?: number; maximumMessageSize?: number },
): Promise<TestQueue> {
  const name = `t-${randomUUID().slice(0, 8)}`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        ...(options.maximumMessageSize ? { MaximumMessageSize: String(options.maximumMessageSize) } : {}),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount ?? 20 }),
      },
    }),
  );
  return { name, url: queue.QueueUrl!, arn: await queueArn(sqs, queue.QueueUrl!), deadLetterUrl: dlq.QueueUrl! };
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const response = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return response.Attributes!.QueueArn!;
}
