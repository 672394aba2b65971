import type { SQSClient } from '@aws-sdk/client-sqs';
import { queues, tasks, type QueueName, type TaskDefinition } from '../catalogue/index.ts';
import { createSqsClient } from '../aws.ts';
import { ConfigError, readConfig } from '../config.ts';
import { createLogger, createMetrics } from '../observability/index.ts';
import type { Database } from '../results/database.ts';
import { sharedDatabase } from '../results/shared-database.ts';
import { createConsumer } from './consumer.ts';
import { TaskDirectory } from './parse.ts';
import type { TaskImplementation } from './task.ts';

/** What a harness may hand in instead of what the environment would build: the benchmarks count its requests and statements. */
export interface QueueConsumerOverrides {
  readonly sqs?: SQSClient;
  readonly database?: () => Promise<Database>;
}

/**
 * The consumer of one catalogue queue, configured from the environment: what each
 * `functions/consumer-<queue>.ts` exports as its handler, in Lambda and in the local cloud.
 * `services` builds the queue's own services (its tasks' context) from the same
 * environment, once; a setting missing or malformed fails here, at start, not in a task.
 */
export function createQueueConsumer<Services>(
  queue: QueueName,
  implementations: readonly TaskImplementation<TaskDefinition, Services>[],
  services: (env: NodeJS.ProcessEnv) => Services,
  env: NodeJS.ProcessEnv = process.env,
  overrides: QueueConsumerOverrides = {},
) {
  const config = readConfig(env);
  const queueUrl = config.queueUrls[queue];
  const deadLetterQueueUrl = config.deadLetterQueueUrls[queue];
  if (!queueUrl || !deadLetterQueueUrl) {
    throw new ConfigError(`consumer ${queue} needs QUEUE_URL_${queue.toUpperCase()} and DLQ_URL_${queue.toUpperCase()}`);
  }
  return createConsumer({
    queue: queues[queue],
    queueUrl,
    deadLetterQueueUrl,
    directory: new TaskDirectory(queue, implementations, Object.values(tasks)),
    services: services(env),
    sqs: overrides.sqs ?? createSqsClient(config),
    // A workflow's next step may run on another queue.
    queueUrls: config.queueUrls,
    database: overrides.database ?? (() => sharedDatabase(config.database)),
    logger: createLogger(queue),
    metrics: createMetrics(queue),
  });
}
