import type { SQSClient } from '@aws-sdk/client-sqs';
import { laneName, laneVariable, queues, tasks, type QueueName, type TaskDefinition } from '../catalogue/index.ts';
import { createSqsClient } from '../aws.ts';
import { ConfigError, configError, readConfig, type Environment } from '../config.ts';
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
 * The consumer of one catalogue queue, configured from `env`: what each queue's factory in
 * `shared/consumers/` builds, for `functions/consumer-<queue>.ts` (with the process
 * environment) and for the local cloud (with its own). `env` is copied once, here, and
 * nothing reads it again. `services` builds the queue's own services (its tasks' context)
 * from the same copy, once: a setting missing or malformed, in the configuration, the
 * queue's URLs or its services, fails here, at start, in one error naming them all.
 */
export function createQueueConsumer<Services>(
  queue: QueueName,
  implementations: readonly TaskImplementation<TaskDefinition, Services>[],
  services: (env: Environment) => Services,
  env: Environment,
  overrides: QueueConsumerOverrides = {},
) {
  const settings: Environment = Object.freeze({ ...env });
  const problems: string[] = [];
  const config = collect(problems, () => readConfig(settings));
  // Both lanes' event sources invoke this consumer, and each lane's dead letters go to its own queue.
  const lanes = [laneName(queue), laneName(queue, 'high')];
  for (const lane of lanes) {
    for (const prefix of ['QUEUE_URL', 'DLQ_URL'] as const) {
      if (!settings[laneVariable(prefix, lane)]) problems.push(`${laneVariable(prefix, lane)}: required by the ${queue} consumer`);
    }
  }
  const built = collect(problems, () => ({ services: services(settings) }));
  const [queueUrl, highQueueUrl] = lanes.map((lane) => config?.queueUrls[lane]);
  const [deadLetterQueueUrl, highDeadLetterQueueUrl] = lanes.map((lane) => config?.deadLetterQueueUrls[lane]);
  // A setting both readers check (AWS_ENDPOINT_URL) is named once.
  if (!config || !queueUrl || !deadLetterQueueUrl || !highQueueUrl || !highDeadLetterQueueUrl || !built || problems.length > 0) throw configError(`the ${queue} consumer`, [...new Set(problems)]);
  return createConsumer({
    queue: queues[queue],
    queueUrl,
    deadLetterQueueUrl,
    highPriority: { queueUrl: highQueueUrl, deadLetterQueueUrl: highDeadLetterQueueUrl },
    directory: new TaskDirectory(queue, implementations, Object.values(tasks)),
    services: built.services,
    sqs: overrides.sqs ?? createSqsClient(config),
    // A workflow's next step may run on another queue.
    queueUrls: config.queueUrls,
    database: overrides.database ?? (() => sharedDatabase(config.database)),
    logger: createLogger(queue),
    metrics: createMetrics(queue),
  });
}

/** What `read` returns, or undefined with its configuration problems added to `problems`. */
function collect<T>(problems: string[], read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}
