import { existsSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Envelope } from '../../shared/envelope/envelope.ts';
import { openTestDatabase } from '../support/database.ts';
import { createTestQueue, startEmulator } from '../support/emulator.ts';
import { startConsumer } from '../support/consumer.ts';
import { waitFor } from '../support/wait.ts';
import { account, fullyAccounted, printAccounting } from './accounting.ts';
import { faultImplementations } from './effects.ts';
import { localCluster } from './postgres-server.ts';
import { scratch, sendTracked, sleep, work } from './harness.ts';
import { queueDepth } from '../support/sqs.ts';

const url = process.env.DATABASE_URL;
const outageSeconds = 10;
// It stops and starts the local cluster that DATABASE_URL names (CI's, started by .ci/run).
const cluster = url && existsSync('/etc/postgresql') ? localCluster() : undefined;
if (!cluster) {
  console.warn(`PostgreSQL outage scenario skipped: ${url ? 'no local cluster under /etc/postgresql to stop' : 'DATABASE_URL is unset'}; it stops a real server (CI runs it with DATABASE_URL set)`);
}
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let store: Awaited<ReturnType<typeof openTestDatabase>>;
let files: Awaited<ReturnType<typeof scratch>>;

beforeAll(async () => {
  if (!cluster) return;
  emulator = await startEmulator();
  store = await openTestDatabase();
  files = await scratch('outage');
});
afterAll(async () => {
  // Whatever happened, the server other tests share is running again before anything else.
  await cluster?.start();
  await store?.close();
  await emulator?.stop();
  await files?.remove();
});

it.skipIf(!cluster)(`finishes every task once, within its retry budget, across PostgreSQL stopped for ${outageSeconds} s mid-run`, async () => {
  const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 10 });
  const consumer = startConsumer({ sqs: emulator.sqs, queue, database: store.database, implementations: faultImplementations(files.journal) });
  const sent: Envelope[] = [];
  // 80 half-second tasks over 8 s: the outage starts while batches run and new messages keep coming.
  const sender = (async () => {
    const start = Date.now();
    for (let tick = 0; tick < 16; tick++) {
      const batch = Array.from({ length: 5 }, (_, index) => work(sent.length + index, 500));
      sent.push(...batch);
      await sendTracked(emulator.sqs, queue.url, batch.map((envelope) => JSON.stringify(envelope)));
      await sleep(Math.max(0, start + (tick + 1) * 500 - Date.now()));
    }
  })();

  await waitFor(() => files.journal.entries().some((entry) => entry.kind === 'effect') && files.journal.inFlight(process.pid) > 0, 20_000, 'tasks to be running');
  const inFlightAtStop = files.journal.inFlight(process.pid);
  const stoppedAt = Date.now();
  try {
    await cluster!.stop();
    await sleep(outageSeconds * 1000);
  } finally {
    await cluster!.start();
  }
  const outage = (Date.now() - stoppedAt) / 1000;
  await sender;

  const [{ done } = { done: 0 }] = await waitFor(async () => {
    const rows = await store.database.rows<{ done: number }>(sql`select count(*)::int as done from task_results where status = 'SUCCESS'`);
    return rows[0]!.done === sent.length && (await queueDepth(emulator.sqs, queue.url)) === 0 ? rows : undefined;
  }, 90_000, 'every task to finish').catch((error: unknown) => (console.error(String(error)), []));
  await consumer.stop();

  const accounting = await account({
    scenario: 'PostgreSQL stopped 10 s (postgres)',
    database: store.database,
    sqs: emulator.sqs,
    deadLetterUrl: queue.deadLetterUrl,
    journal: files.journal,
    expected: { valid: sent.map((envelope) => envelope.id) },
  });
  const attempts = await store.database.rows<{ task_id: string; attempt: number; status: string; error: string | null }>(
    sql`select task_id, attempt, status, error from task_attempts order by task_id, attempt`,
  );
  const cutByOutage = attempts.filter((attempt) => attempt.status === 'STARTED');
  printAccounting(accounting, {
    'outage (s)': outage.toFixed(1),
    'runs in flight at stop': inFlightAtStop,
    'attempts cut by the outage': cutByOutage.length,
    'batches backed off': consumer.invocations.filter((invocation) => invocation.failed > 0).length,
  });

  expect(done).toBe(sent.length);
  expect(fullyAccounted(accounting)).toEqual({ lost: [], ranTwice: [], misfiled: [], strayDeadLetters: 0, badReasonAttributes: [], total: sent.length });
  expect(accounting).toMatchObject({ succeeded: sent.length, deadLettered: 0 });
  // Backing off spent no attempt: no attempt failed, and the only extra attempts are runs whose outcome the outage kept from being recorded.
  expect(attempts.filter((attempt) => attempt.status === 'RETRY' || attempt.status === 'FAILURE')).toEqual([]);
  for (const row of accounting.rows.values()) expect(row.attempts).toBeLessThanOrEqual(2);
  expect(cutByOutage.length).toBeLessThanOrEqual(2 * 10);
  // The consumer's pool lived through the restart: the batches after it ran on the same handle.
  expect(consumer.invocations.filter((invocation) => invocation.outcome !== 'ok')).toEqual([]);
});
