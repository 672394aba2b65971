import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { TaskImplementation } from '../../shared/runtime/task.ts';
import { startConsumer } from './consumer.ts';
import { openTestDatabase, taskRow } from './database.ts';
import { createTestQueue, startEmulator, type TestQueue } from './emulator.ts';
import { waitFor } from './wait.ts';

/**
 * The hooks a task suite needs: one emulator for the file, and per test a fresh result
 * store, a fresh queue and the real consumer with the given tasks and service settings.
 */
export function taskSuite<Services>(options: {
  queueName: string;
  implementations: readonly TaskImplementation[];
  /** The queue's services, built from `env` as its consumer builds them. */
  services: (env: NodeJS.ProcessEnv) => Services;
  env: () => Record<string, string>;
  startConsumer?: boolean;
}) {
  const suite = {} as {
    emulator: Awaited<ReturnType<typeof startEmulator>>;
    db: Awaited<ReturnType<typeof openTestDatabase>>;
    queue: TestQueue;
    consumer: ReturnType<typeof startConsumer> | undefined;
  };
  beforeAll(async () => {
    suite.emulator = await startEmulator();
  });
  afterAll(async () => {
    await suite.emulator.stop();
  });
  beforeEach(async () => {
    suite.db = await openTestDatabase();
    suite.queue = await createTestQueue(suite.emulator.sqs, { visibilityTimeoutSeconds: 30 });
    if (options.startConsumer !== false) start();
  });
  afterEach(async () => {
    await suite.consumer?.stop();
    suite.consumer = undefined;
    await suite.db.close();
  });

  /** Starts the consumer, with extra service settings for this test; one set to undefined is left out. */
  function start(extraEnv: Record<string, string | undefined> = {}) {
    suite.consumer = startConsumer({
      sqs: suite.emulator.sqs,
      queue: suite.queue,
      database: suite.db.database,
      queueName: options.queueName,
      implementations: options.implementations,
      services: options.services(Object.fromEntries(Object.entries({ ...options.env(), ...extraEnv }).filter(([, value]) => value !== undefined))),
    });
    return suite.consumer;
  }

  /** The task's row once it has the status. */
  function finished(id: string, status = 'SUCCESS') {
    return waitFor(async () => {
      const row = await taskRow(suite.db.database, id);
      return row?.status === status ? row : undefined;
    }, 20_000, `${id} to be ${status}`);
  }

  return { suite, start, finished };
}
