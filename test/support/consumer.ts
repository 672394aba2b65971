import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { tasks } from '../../shared/catalogue/index.ts';
import { newEnvelope, type Envelope } from '../../shared/envelope/envelope.ts';
import { pollerFor, type InvocationReport } from '../../shared/local/poller.ts';
import { createLogger, createMetrics } from '../../shared/observability/index.ts';
import type { Database } from '../../shared/results/database.ts';
import { createConsumer } from '../../shared/runtime/consumer.ts';
import { TaskDirectory } from '../../shared/runtime/parse.ts';
import type { TaskImplementation } from '../../shared/runtime/task.ts';
import { region, type TestQueue } from './emulator.ts';
import { testQueueDefinition } from './tasks.ts';

/** The real consumer behind the real poller, on a test queue. */
export function startConsumer(options: {
  sqs: SQSClient;
  queue: TestQueue;
  database: Database;
  implementations: readonly TaskImplementation[];
  batchSize?: number;
  random?: () => number;
  logger?: Logger;
  metrics?: Metrics;
  /** Another catalogue queue, with the test queue's short limits. @default 'default' */
  queueName?: string;
  /** The queue's services, as its tasks expect them. @default none */
  services?: unknown;
  revocationCheckMs?: number;
  /** How often the consumer reads the run-time policy changes again. @default 5000 */
  policyRefreshMs?: number;
}) {
  const queueDefinition = { ...testQueueDefinition, name: options.queueName ?? 'default', batchSize: options.batchSize ?? testQueueDefinition.batchSize };
  const handler = createConsumer({
    queue: queueDefinition,
    queueUrl: options.queue.url,
    deadLetterQueueUrl: options.queue.deadLetterUrl,
    directory: new TaskDirectory(queueDefinition.name, options.implementations, Object.values(tasks)),
    sqs: options.sqs,
    database: async () => options.database,
    logger: options.logger ?? createLogger('default'),
    metrics: options.metrics ?? createMetrics('default'),
    ...(options.random ? { random: options.random } : {}),
    services: options.services ?? {},
    ...(options.revocationCheckMs ? { revocationCheckMs: options.revocationCheckMs } : {}),
    ...(options.policyRefreshMs ? { policyRefreshMs: options.policyRefreshMs } : {}),
  });
  const invocations: InvocationReport[] = [];
  const poller = pollerFor(queueDefinition, {
    sqs: options.sqs,
    queueUrl: options.queue.url,
    queueArn: options.queue.arn,
    region,
    functionName: `consumer-${options.queue.name}`,
    handler,
    waitTimeSeconds: 1,
    onInvocation: (report) => invocations.push(report),
  });
  poller.start();
  return { handler, invocations, stop: () => poller.stop() };
}

/** Sends raw bodies in batches of ten, as a producer would. */
export async function sendBodies(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    const response = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(start, start + 10).map((body, index) => ({ Id: `e${index}`, MessageBody: body })),
      }),
    );
    if (response.Failed?.length) throw new Error(`send failed: ${JSON.stringify(response.Failed)}`);
  }
}

export function envelope(task: string, payload: Record<string, unknown>, fields: Partial<Envelope> = {}): Envelope {
  return newEnvelope(task, payload, fields);
}
