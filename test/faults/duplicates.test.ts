import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { databaseKind } from '../support/database.ts';
import { createTestQueue } from '../support/emulator.ts';
import { startConsumer } from '../support/consumer.ts';
import { waitFor } from '../support/wait.ts';
import { account, fullyAccounted, printAccounting } from './accounting.ts';
import { faultImplementations } from './effects.ts';
import { inProcessScenario, sendTracked, sleep, work } from './harness.ts';
import { queueDepth } from '../support/sqs.ts';

const scenario = inProcessScenario('duplicates');

it(`runs every task once when each message arrives two or three times, during and after its run (${databaseKind})`, async () => {
  const queue = await createTestQueue(scenario.emulator.sqs, { visibilityTimeoutSeconds: 10 });
  const consumer = startConsumer({ sqs: scenario.emulator.sqs, queue, database: scenario.store.database, implementations: faultImplementations(scenario.files.journal) });
  const sent = Array.from({ length: 40 }, (_, n) => work(n, 1_000));
  const body = (n: number) => JSON.stringify(sent[n]);
  const copies = { together: 0, whileRunning: 0, afterSuccess: 0 };

  // Every fourth message is sent twice in one call: both copies may land in one batch or in two at once.
  const first = sent.flatMap((_, n) => (n % 4 === 0 ? [body(n), body(n)] : [body(n)]));
  copies.together = first.length - sent.length;
  await sendTracked(scenario.emulator.sqs, queue.url, first);

  // The second copy of each goes the moment its first run is seen to start: it arrives while that run is under way.
  const resent = new Set<string>();
  await waitFor(async () => {
    const started = scenario.files.journal.entries().filter((entry) => entry.kind === 'start' && !resent.has(entry.id)).map((entry) => entry.id);
    const running = new Set(started);
    if (running.size > 0) {
      await sendTracked(scenario.emulator.sqs, queue.url, [...running].map((id) => JSON.stringify(sent.find((envelope) => envelope.id === id))));
      for (const id of running) resent.add(id);
      copies.whileRunning += running.size;
    }
    return resent.size === sent.length;
  }, 60_000, 'every task to start');

  const succeeded = async () => {
    const [row] = await scenario.store.database.rows<{ done: number }>(sql`select count(*)::int as done from task_results where status = 'SUCCESS'`);
    return row!.done === sent.length;
  };
  await waitFor(succeeded, 60_000, 'every task to succeed').catch((error: unknown) => console.error(String(error)));
  // A third copy of every other task, after it succeeded.
  const late = sent.filter((_, n) => n % 2 === 0).map((envelope) => JSON.stringify(envelope));
  copies.afterSuccess = late.length;
  await sendTracked(scenario.emulator.sqs, queue.url, late);
  await sleep(500);
  await waitFor(async () => (await queueDepth(scenario.emulator.sqs, queue.url)) === 0, 60_000, 'every copy to be acknowledged').catch((error: unknown) => console.error(String(error)));
  await consumer.stop();

  const accounting = await account({
    scenario: `duplicate deliveries (${databaseKind})`,
    database: scenario.store.database,
    sqs: scenario.emulator.sqs,
    deadLetterUrl: queue.deadLetterUrl,
    journal: scenario.files.journal,
    expected: { valid: sent.map((envelope) => envelope.id) },
  });
  printAccounting(accounting, {
    messages: sent.length + copies.together + copies.whileRunning + copies.afterSuccess,
    'copies in one send': copies.together,
    'copies while running': copies.whileRunning,
    'copies after SUCCESS': copies.afterSuccess,
  });

  expect(fullyAccounted(accounting)).toEqual({ lost: [], ranTwice: [], misfiled: [], strayDeadLetters: 0, badReasonAttributes: [], total: sent.length });
  expect(accounting.succeeded).toBe(sent.length);
  // No fault cut a run short here, so a duplicate must never even start a second run.
  expect(accounting.reRuns).toBe(0);
  expect(copies.whileRunning).toBe(sent.length);
  for (const row of accounting.rows.values()) expect(row.attempts).toBe(1);
  expect(consumer.invocations.filter((invocation) => invocation.outcome !== 'ok')).toEqual([]);
});
