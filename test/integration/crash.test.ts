import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateDatabase, openDatabase } from '../../shared/results/database.ts';
import { findTask } from '../../shared/results/queries.ts';
import { databaseKind, openTestDatabase, taskRows } from '../support/database.ts';
import { createTestQueue, startEmulator } from '../support/emulator.ts';
import { envelope, sendBodies } from '../support/consumer.ts';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.stop();
});

/** Runs the consumer fixture in its own process and resolves with how it ended. */
function runConsumerProcess(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['test/fixtures/consumer-process.ts'], {
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', EXIT_WHEN_EMPTY: '1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

it(`redelivers a batch whose consumer process died mid-batch, and every task ends SUCCESS exactly once (${databaseKind})`, async () => {
  const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 5 });
  const batch = Array.from({ length: 10 }, (_, n) => envelope('default.test_crash', { n, crashOnAttempt: n === 3 ? 1 : 0 }));
  await sendBodies(emulator.sqs, queue.url, batch.map((task) => JSON.stringify(task)));

  const pgliteDir = await mkdtemp(join(tmpdir(), 'taskq-crash-'));
  const store = databaseKind === 'postgres' ? await openTestDatabase() : undefined;
  const env = {
    ENDPOINT: emulator.endpoint,
    QUEUE_URL: queue.url,
    QUEUE_ARN: queue.arn,
    DLQ_URL: queue.deadLetterUrl,
    ...(store ? { DATABASE_URL: process.env.DATABASE_URL!, DB_SCHEMA: store.schema! } : { PGLITE_DIR: pgliteDir }),
  };
  try {
    const first = await runConsumerProcess(env);
    expect(first.signal).toBe('SIGKILL');

    const restarted = await runConsumerProcess(env);
    expect(restarted).toEqual({ code: 0, signal: null });

    const database = store?.database ?? (await openDatabase({ kind: 'pglite', dataDir: pgliteDir }));
    await migrateDatabase(database);
    const rows = await taskRows(database);
    expect(rows.map((row) => row.id).sort()).toEqual(batch.map((task) => task.id).sort());
    for (const row of rows) {
      expect(row.status).toBe('SUCCESS');
      // The first attempt died with its process; the second, after redelivery, finished.
      expect(row.attempts).toBe(2);
      expect(JSON.parse(row.result!)).toMatchObject({ attempt: 2 });
      // The history keeps the attempt that died: started, never finished.
      const detail = await findTask(database, row.id);
      expect(detail!.attemptHistory.map((a) => [a.attempt, a.status, a.finishedAt === null])).toEqual([[1, 'STARTED', true], [2, 'SUCCESS', false]]);
    }
    if (!store) await database.close();
  } finally {
    await store?.close();
    await rm(pgliteDir, { recursive: true, force: true });
  }
}, 60_000);
