/**
 * The system under test, wired as the `default` queue's function is: the real poller in
 * front of `createQueueConsumer('default', defaultTasks)`, with a counted SQS client and a
 * counted result store handed in. PostgreSQL gets a fresh schema; PGlite is in memory.
 */
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sql } from 'drizzle-orm';
import { queues, type QueueName } from '../../shared/catalogue/index.ts';
import { pollerFor, type InvocationReport, type SqsHandler } from '../../shared/local/poller.ts';
import { laneEnvironment, type ProvisionedQueue } from '../../shared/local/queues.ts';
import { migrateDatabase, openDatabase, type Database } from '../../shared/results/database.ts';
import { createQueueConsumer } from '../../shared/runtime/queue-consumer.ts';
import { defaultTasks } from '../../shared/tasks/default.ts';
import { emulatorClient, region, startEmulatorProcess, type EmulatorProcess } from './emulator.ts';
import { countSqsRequests, type RequestCount } from './round-trips.ts';

export type DatabaseKind = 'pglite' | 'postgres';

export const databaseLabels: Record<DatabaseKind, string> = { pglite: 'PGlite', postgres: 'PostgreSQL' };

export interface BenchDatabase {
  readonly database: Database;
  /** Statements sent while `counting` is on. */
  readonly statements: { count: number; counting: boolean };
  /** Server version, for the record. */
  readonly version: string;
  /** Process ids of this handle's server connections (PostgreSQL on this machine), for their CPU time. */
  backendPids(): Promise<number[]>;
  close(): Promise<void>;
}

export async function openBenchDatabase(kind: DatabaseKind): Promise<BenchDatabase> {
  const statements = { count: 0, counting: false };
  const onStatement = () => {
    if (statements.counting) statements.count++;
  };
  const url = process.env.DATABASE_URL;
  if (kind === 'postgres' && !url) throw new Error('the PostgreSQL run needs DATABASE_URL');
  const schema = `bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  // node-postgres names its connections after PGAPPNAME: the run finds its own server processes by it.
  process.env.PGAPPNAME = schema;
  const database = kind === 'postgres'
    ? await openDatabase({ kind: 'postgres', url: url! }, { schema, onStatement })
    : await openDatabase({ kind: 'pglite' }, { onStatement });
  await migrateDatabase(database);
  const [{ version } = { version: '' }] = await database.rows<{ version: string }>(sql`select current_setting('server_version') as version`);
  return {
    database,
    statements,
    version,
    async backendPids() {
      if (kind !== 'postgres') return [];
      const rows = await database.rows<{ pid: number }>(sql`select pid from pg_stat_activity where application_name = ${schema}`);
      return rows.map((row) => Number(row.pid));
    },
    async close() {
      statements.counting = false;
      if (kind === 'postgres') await database.db.execute(sql.raw(`drop schema ${schema} cascade`));
      await database.close();
    },
  };
}

/**
 * A result store and an SQS emulator process (with a producer's client of it) for one
 * measurement, all closed when `work` ends, however it ends.
 */
export async function withStoreAndEmulator<T>(
  kind: DatabaseKind,
  work: (setup: { store: BenchDatabase; emulator: EmulatorProcess; producerSqs: SQSClient }) => Promise<T>,
): Promise<T> {
  const store = await openBenchDatabase(kind);
  const emulator = await startEmulatorProcess().catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const producerSqs = emulatorClient(emulator.endpoint);
  try {
    return await work({ store, emulator, producerSqs });
  } finally {
    producerSqs.destroy();
    await store.close();
    await emulator.stop();
  }
}

/** The queue settings a run used, as reported. */
export interface ConsumerSettingsUsed {
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maxConcurrency: number;
  readonly waitTimeSeconds: number;
  readonly memoryMb: number;
}

export interface BenchConsumer {
  readonly settings: ConsumerSettingsUsed;
  readonly requests: RequestCount;
  readonly invocations: InvocationReport[];
  /** Wall time of each handler call (what Lambda bills), in ms. */
  readonly handlerMs: number[];
  /** Messages deleted after their outcome was recorded. */
  acknowledged(): number;
  /** Resolves once `count` messages have been acknowledged, with the time it happened. */
  acknowledgedAt(count: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `maxConcurrency` pollers on the `default` queue with the catalogue's batch size,
 * concurrency and memory, and the batching window given.
 */
export function startBenchConsumer(options: {
  readonly endpoint: string;
  readonly queues: Record<QueueName, ProvisionedQueue>;
  readonly database: Database;
  readonly batchingWindowSeconds: number;
  readonly onAcknowledged?: (count: number) => void;
}): BenchConsumer {
  const definition = queues.default;
  const queue = options.queues.default;
  const sqs = emulatorClient(options.endpoint);
  const requests = countSqsRequests(sqs);
  const env: NodeJS.ProcessEnv = {
    AWS_REGION: region,
    AWS_ENDPOINT_URL: options.endpoint,
    ...laneEnvironment(options.queues),
  };
  const handler = createQueueConsumer('default', defaultTasks, () => ({}), env, { sqs, database: async () => options.database }) as SqsHandler;
  const handlerMs: number[] = [];
  const timed: SqsHandler = async (event, context) => {
    const started = performance.now();
    try {
      return await handler(event, context);
    } finally {
      handlerMs.push(performance.now() - started);
    }
  };
  const settings: ConsumerSettingsUsed = {
    batchSize: definition.batchSize,
    batchingWindowSeconds: options.batchingWindowSeconds,
    maxConcurrency: definition.maxConcurrency,
    // Lambda's event source long-polls for 20 s.
    waitTimeSeconds: 20,
    memoryMb: definition.memoryMb,
  };
  const invocations: InvocationReport[] = [];
  let acknowledged = 0;
  const waiters: { count: number; resolve: (at: number) => void }[] = [];
  const poller = pollerFor(definition, {
    sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    region,
    functionName: 'consumer-default',
    handler: timed,
    batchingWindowSeconds: settings.batchingWindowSeconds,
    waitTimeSeconds: settings.waitTimeSeconds,
    onInvocation: (report) => {
      invocations.push(report);
      if (report.outcome !== 'ok') return;
      acknowledged += report.records - report.failed;
      options.onAcknowledged?.(acknowledged);
      const now = performance.now();
      for (const waiter of waiters.filter((w) => w.count <= acknowledged)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(now);
      }
    },
    onError: (error) => console.error(`poller: ${error instanceof Error ? error.message : String(error)}`),
  });
  poller.start();
  return {
    settings,
    requests,
    invocations,
    handlerMs,
    acknowledged: () => acknowledged,
    acknowledgedAt: (count) => (count <= acknowledged ? Promise.resolve(performance.now()) : new Promise((resolve) => waiters.push({ count, resolve }))),
    async stop() {
      await poller.stop();
      sqs.destroy();
    },
  };
}
