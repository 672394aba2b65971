import { queues, tasks, type QueueName } from '../catalogue/index.ts';
import { createSqsClient } from '../aws.ts';
import { ConfigError, readConfig } from '../config.ts';
import { createLogger, createMetrics } from '../observability/index.ts';
import { openDatabase, type Database } from '../results/database.ts';
import { implementations } from '../tasks/index.ts';
import { createConsumer } from './consumer.ts';
import { TaskDirectory } from './parse.ts';

const openDatabases = new Map<string, Promise<Database>>();

/** One result-store handle per target for the whole process (PGlite allows a single opener). */
export function sharedDatabase(target: ReturnType<typeof readConfig>['database']): Promise<Database> {
  const key = JSON.stringify(target);
  let database = openDatabases.get(key);
  if (!database) {
    database = openDatabase(target);
    openDatabases.set(key, database);
    database.catch(() => openDatabases.delete(key));
  }
  return database;
}

/** Closes the process's shared result-store handles (the local cloud's shutdown). */
export async function closeSharedDatabases(): Promise<void> {
  const handles = [...openDatabases.values()];
  openDatabases.clear();
  await Promise.all(handles.map(async (handle) => (await handle).close()));
}

/**
 * The consumer of one catalogue queue, configured from the environment: what each
 * `functions/consumer-<queue>.ts` exports as its handler, in Lambda and in the local cloud.
 */
export function createQueueConsumer(queue: QueueName, env: NodeJS.ProcessEnv = process.env) {
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
    sqs: createSqsClient(config),
    database: () => sharedDatabase(config.database),
    logger: createLogger(queue),
    metrics: createMetrics(queue),
  });
}
