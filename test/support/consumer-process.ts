/**
 * The real consumer behind the real poller, wired from the environment, for a test that
 * runs it in a process of its own so it can die mid-batch the way a Lambda sandbox does.
 * SIGTERM stops it cleanly; with EXIT_WHEN_EMPTY it also stops once the queue has stayed
 * empty for a second.
 *
 * Environment: ENDPOINT, QUEUE_URL, QUEUE_ARN, DLQ_URL, and DATABASE_URL + DB_SCHEMA or PGLITE_DIR.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { tasks } from '../../shared/catalogue/index.ts';
import { pollerFor } from '../../shared/local/poller.ts';
import { createLogger, createMetrics } from '../../shared/observability/index.ts';
import { migrateDatabase, openDatabase } from '../../shared/results/database.ts';
import { createConsumer } from '../../shared/runtime/consumer.ts';
import { TaskDirectory } from '../../shared/runtime/parse.ts';
import type { TaskImplementation } from '../../shared/runtime/task.ts';
import { queueDepth } from './sqs.ts';
import { testQueueDefinition } from './tasks.ts';

export async function serveConsumer(functionName: string, implementations: readonly TaskImplementation[]): Promise<void> {
  const env = process.env as Record<string, string>;
  const sqs = new SQSClient({ endpoint: env.ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const database = await openDatabase(
    env.DATABASE_URL ? { kind: 'postgres', url: env.DATABASE_URL } : { kind: 'pglite', dataDir: env.PGLITE_DIR! },
    env.DB_SCHEMA ? { schema: env.DB_SCHEMA } : {},
  );
  await migrateDatabase(database);

  const handler = createConsumer({
    queue: testQueueDefinition,
    queueUrl: env.QUEUE_URL!,
    deadLetterQueueUrl: env.DLQ_URL!,
    directory: new TaskDirectory('default', implementations, Object.values(tasks)),
    sqs,
    database: async () => database,
    logger: createLogger('default'),
    metrics: createMetrics('default'),
    services: {},
  });
  const poller = pollerFor(testQueueDefinition, {
    sqs,
    queueUrl: env.QUEUE_URL!,
    queueArn: env.QUEUE_ARN!,
    region: 'us-east-1',
    functionName,
    handler,
    waitTimeSeconds: 1,
  });
  poller.start();

  const stopping = Promise.withResolvers<void>();
  process.once('SIGTERM', () => stopping.resolve());
  if (env.EXIT_WHEN_EMPTY) {
    void (async () => {
      for (let empty = 0; empty < 2; ) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        empty = (await queueDepth(sqs, env.QUEUE_URL!)) === 0 ? empty + 1 : 0;
      }
      stopping.resolve();
    })();
  }
  await stopping.promise;
  await poller.stop();
  await database.close();
  sqs.destroy();
}
