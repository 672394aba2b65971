import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startFauxqs } from 'fauxqs';
import { queueNames, queues, type QueueName } from '../catalogue/index.ts';
import { createSqsClient } from '../aws.ts';
import { readConfig, type Config } from '../config.ts';
import { migrateDatabase } from '../results/database.ts';
import { closeSharedDatabases, sharedDatabase } from '../results/shared-database.ts';
import { EventSourcePoller, type InvocationReport, type SqsHandler } from './poller.ts';
import { provisionQueues, type ProvisionedQueue } from './queues.ts';

export interface LocalCloudOptions {
  /** Port of the embedded SQS emulator (0 picks a free one); ignored with `AWS_ENDPOINT_URL`. @default 4566 */
  readonly port?: number;
  /** Where PGlite keeps its files when no `DATABASE_URL` is set. @default .local */
  readonly dataDir?: string;
  readonly onInvocation?: (queue: QueueName, report: InvocationReport) => void;
  readonly onError?: (queue: QueueName, error: unknown) => void;
}

export interface LocalCloud {
  readonly endpoint: string;
  readonly database: string;
  readonly queues: Record<QueueName, ProvisionedQueue>;
  stop(): Promise<void>;
}

/**
 * The whole system on one machine: the SQS emulator (or an external endpoint), the
 * result store migrated, the catalogue's queues created with the stack's attributes, and
 * one event-source poller per queue invoking the same handler export Lambda runs.
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  // The handler modules configure themselves from the process environment, as in Lambda.
  const env = process.env;
  const external = env.AWS_ENDPOINT_URL;
  const emulator = external ? undefined : await startFauxqs({ port: options.port ?? 4566, logger: false });
  const endpoint = external ?? `http://127.0.0.1:${emulator!.port}`;

  const dataDir = resolve(options.dataDir ?? '.local');
  if (!env.DATABASE_URL && !env.PGLITE_DIR) {
    await mkdir(dataDir, { recursive: true });
    env.PGLITE_DIR = join(dataDir, 'pglite');
  }
  env.AWS_ENDPOINT_URL = endpoint;
  const config: Config = readConfig(env);
  const sqs = createSqsClient(config);
  const database = await sharedDatabase(config.database);
  await migrateDatabase(database);
  const provisioned = await provisionQueues(sqs, config.stage);

  for (const queue of Object.values(provisioned)) {
    env[`QUEUE_URL_${queue.name.toUpperCase()}`] = queue.url;
    env[`DLQ_URL_${queue.name.toUpperCase()}`] = queue.deadLetterUrl;
  }
  const pollers = await Promise.all(
    queueNames.map(async (name) => {
      const { handler } = (await import(`../../functions/consumer-${name}.ts`)) as { handler: SqsHandler };
      const definition = queues[name];
      return new EventSourcePoller({
        sqs,
        queueUrl: provisioned[name].url,
        queueArn: provisioned[name].arn,
        region: config.region,
        functionName: `${config.stage}-consumer-${name}`,
        handler,
        batchSize: definition.batchSize,
        batchingWindowSeconds: definition.batchingWindowSeconds,
        maxConcurrency: definition.maxConcurrency,
        timeoutSeconds: definition.timeoutSeconds,
        memoryMb: definition.memoryMb,
        ...(options.onInvocation ? { onInvocation: (report: InvocationReport) => options.onInvocation?.(name, report) } : {}),
        ...(options.onError ? { onError: (error: unknown) => options.onError?.(name, error) } : {}),
      });
    }),
  );
  for (const poller of pollers) poller.start();

  return {
    endpoint,
    database: config.database.kind === 'postgres' ? 'postgres (DATABASE_URL)' : `pglite ${config.database.kind === 'pglite' ? (config.database.dataDir ?? 'in memory') : ''}`,
    queues: provisioned,
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()));
      sqs.destroy();
      await closeSharedDatabases();
      await emulator?.stop();
    },
  };
}
