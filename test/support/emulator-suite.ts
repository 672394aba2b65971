import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { TaskProducer } from '../../shared/producer/producer.ts';
import type { ResultsBucket } from '../../shared/results/overflow.ts';
import { s3PayloadStore } from '../../shared/results/payloads.ts';
import type { TaskImplementation } from '../../shared/runtime/task.ts';
import { startConsumer } from './consumer.ts';
import { openTestDatabase } from './database.ts';
import { createTestQueue, region, startEmulator, type TestQueue } from './emulator.ts';
import { testImplementations, testTaskDefinitions, type Journal } from './tasks.ts';

type ConsumerOptions = Omit<Parameters<typeof startConsumer>[0], 'sqs' | 'queue' | 'database' | 'implementations'>;

/**
 * What the integration files on the emulator share: one emulator for the file, and for
 * each test a fresh result store, test queue and journal, a producer of the test tasks on
 * that queue, and the consumers the test starts, stopped after it. `sqs` wraps the client
 * producers and consumers use (a duplicating one, say); `resultsBucket` names a bucket of the
 * emulator's S3 that the store and the producer keep large results and payloads in;
 * `implementations` are run beside the test tasks.
 */
export function emulatorSuite(options: { sqs?: (sqs: SQSClient) => SQSClient; resultsBucket?: string; implementations?: readonly TaskImplementation[] } = {}) {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let queue: TestQueue;
  let journal: Journal;
  let sqs: SQSClient;
  let producer: TaskProducer;
  const consumers: ReturnType<typeof startConsumer>[] = [];

  beforeAll(async () => {
    emulator = await startEmulator();
    if (options.resultsBucket) {
      const s3 = new S3Client({ endpoint: emulator.endpoint, region, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      await s3.send(new CreateBucketCommand({ Bucket: options.resultsBucket }));
      s3.destroy();
    }
  });
  const bucket = (): ResultsBucket | undefined => (options.resultsBucket ? { bucket: options.resultsBucket, endpoint: emulator.endpoint, region } : undefined);
  afterAll(async () => {
    await emulator.stop();
  });
  beforeEach(async () => {
    const resultsBucket = bucket();
    db = await openTestDatabase(resultsBucket ? { resultsBucket } : {});
    queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    journal = new Map();
    sqs = options.sqs?.(emulator.sqs) ?? emulator.sqs;
    producer = new TaskProducer({
      longDelays: null, sqs, queueUrls: { default: queue.url }, database: db.database, extraTasks: Object.values(testTaskDefinitions),
      ...(resultsBucket ? { payloads: s3PayloadStore(resultsBucket) } : {}),
    });
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
    await db.close();
  });

  return {
    get emulator() {
      return emulator;
    },
    get db() {
      return db;
    },
    get queue() {
      return queue;
    },
    get journal() {
      return journal;
    },
    get producer() {
      return producer;
    },
    /** Starts the real consumer of the test tasks behind the real poller; stopped after the test. */
    start(consumerOptions: ConsumerOptions = {}) {
      const consumer = startConsumer({ sqs, queue, database: db.database, implementations: [...testImplementations(journal), ...(options.implementations ?? [])], ...consumerOptions });
      consumers.push(consumer);
      return consumer;
    },
    /** The consumers this test started. */
    get consumers(): readonly ReturnType<typeof startConsumer>[] {
      return consumers;
    },
    /** How often a task ran. */
    runs: (id: string) => journal.get(id)?.length ?? 0,
  };
}
