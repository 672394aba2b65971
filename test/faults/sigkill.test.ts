import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateDatabase, openDatabase } from '../../shared/results/database.ts';
import { databaseKind, openTestDatabase } from '../support/database.ts';
import { createTestQueue, startEmulator, type TestQueue } from '../support/emulator.ts';
import { waitFor } from '../support/wait.ts';
import { account, fullyAccounted, printAccounting } from './accounting.ts';
import type { EffectsJournal } from './effects.ts';
import { scratch, sendTracked, sleep, work } from './harness.ts';

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let files: Awaited<ReturnType<typeof scratch>>;

beforeAll(async () => {
  emulator = await startEmulator();
  files = await scratch('sigkill');
});
afterAll(async () => {
  await emulator?.stop();
  await files?.remove();
});

/** The consumer in a process of its own; `exited` resolves with how it ended. */
function startChild(env: Record<string, string>) {
  const child = spawn(process.execPath, ['test/faults/consumer-child.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, pid: child.pid!, exited };
}

/** Kills a consumer once it has finished a batch of its own and has runs under way, at a random point of their second. */
async function killMidBatch(journal: EffectsJournal, consumer: ReturnType<typeof startChild>): Promise<number> {
  const applied = () => journal.entries().filter((entry) => entry.pid === consumer.pid && entry.kind !== 'start').length;
  await waitFor(() => applied() >= 5, 30_000, `consumer ${consumer.pid} to finish a batch`);
  for (;;) {
    await waitFor(() => journal.inFlight(consumer.pid) > 0, 30_000, `consumer ${consumer.pid} to start a batch`);
    await sleep(100 + Math.random() * 600);
    const inFlight = journal.inFlight(consumer.pid);
    if (inFlight === 0) continue;
    consumer.child.kill('SIGKILL');
    expect((await consumer.exited).signal).toBe('SIGKILL');
    return inFlight;
  }
}

it(`completes ~100 one-second tasks exactly once across four SIGKILLs of their consumer mid-batch (${databaseKind})`, async () => {
  const queue: TestQueue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 5 });
  const sent = Array.from({ length: 100 }, (_, n) => work(n, 800 + (n % 5) * 100));
  await sendTracked(emulator.sqs, queue.url, sent.map((envelope) => JSON.stringify(envelope)));

  const store = databaseKind === 'postgres' ? await openTestDatabase() : undefined;
  const pgliteDir = join(files.dir, 'pglite');
  const env = {
    ENDPOINT: emulator.endpoint,
    QUEUE_URL: queue.url,
    QUEUE_ARN: queue.arn,
    DLQ_URL: queue.deadLetterUrl,
    JOURNAL: files.journal.path,
    ...(store ? { DATABASE_URL: process.env.DATABASE_URL!, DB_SCHEMA: store.schema! } : { PGLITE_DIR: pgliteDir }),
  };
  try {
    const cut: number[] = [];
    for (let kill = 0; kill < 4; kill++) cut.push(await killMidBatch(files.journal, startChild(env)));

    const last = startChild({ ...env, EXIT_WHEN_EMPTY: '1' });
    expect(await last.exited).toEqual({ code: 0, signal: null });

    // PGlite's files belong to one process at a time: read them once the last consumer is gone.
    const database = store?.database ?? (await openDatabase({ kind: 'pglite', dataDir: pgliteDir }));
    if (!store) await migrateDatabase(database);
    const accounting = await account({
      scenario: `SIGKILL mid-batch (${databaseKind})`,
      database,
      sqs: emulator.sqs,
      deadLetterUrl: queue.deadLetterUrl,
      journal: files.journal,
      expected: { valid: sent.map((envelope) => envelope.id) },
    });
    printAccounting(accounting, { kills: cut.length, 'runs cut by a kill': cut.reduce((a, b) => a + b, 0) });
    if (!store) await database.close();

    expect(fullyAccounted(accounting)).toEqual({ lost: [], ranTwice: [], misfiled: [], strayDeadLetters: 0, badReasonAttributes: [], total: sent.length });
    expect(accounting.succeeded).toBe(sent.length);
    expect(cut.every((runs) => runs > 0)).toBe(true);
    // A killed run is an attempt that ended without an outcome; the budget (6) covers four kills.
    for (const row of accounting.rows.values()) expect(row.attempts).toBeLessThanOrEqual(1 + cut.length);
  } finally {
    await store?.close();
  }
});
