import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { databaseKind } from '../support/database.ts';
import { createTestQueue } from '../support/emulator.ts';
import { startConsumer } from '../support/consumer.ts';
import { waitFor } from '../support/wait.ts';
import { account, fullyAccounted, printAccounting } from './accounting.ts';
import { faultImplementations } from './effects.ts';
import { inProcessScenario, sendTracked, work } from './harness.ts';
import { queueDepth } from '../support/sqs.ts';
import { poisonCorpus } from './poison.ts';

const scenario = inProcessScenario('poison');

it(`dead-letters every kind of poison mixed into valid traffic with its reason, and keeps consuming (${databaseKind})`, async () => {
  const queue = await createTestQueue(scenario.emulator.sqs, { visibilityTimeoutSeconds: 10 });
  const consumer = startConsumer({ sqs: scenario.emulator.sqs, queue, database: scenario.store.database, implementations: faultImplementations(scenario.files.journal) });
  const corpus = poisonCorpus();
  const valid = [
    ...Array.from({ length: 60 }, (_, n) => work(n, 50)),
    // Valid however unusual: an offset beyond any real time zone, text beyond the Basic Multilingual Plane, the longest id.
    work(60, 50, { createdAt: '2026-11-27T09:00:00+23:59' }),
    { ...work(61, 50), payload: { n: 61, ms: 50, label: 'caf\u00e9 \u{1F600} \u4e2d' } },
    work(62, 50, { id: `k${'x'.repeat(127)}` }),
  ];
  // Poison and valid messages share batches: two valid, one poison, and so on.
  const bodies: { body: string; poison?: number }[] = [];
  let next = 0;
  valid.forEach((envelope, index) => {
    bodies.push({ body: JSON.stringify(envelope) });
    if (index % 2 === 1 && next < corpus.length) bodies.push({ body: corpus[next]!.body, poison: next++ });
  });
  while (next < corpus.length) bodies.push({ body: corpus[next]!.body, poison: next++ });
  expect(bodies.filter((b) => b.poison !== undefined)).toHaveLength(corpus.length);

  const messageIds = await sendTracked(scenario.emulator.sqs, queue.url, bodies.map((b) => b.body));
  const poison = bodies.flatMap((b, index) =>
    b.poison === undefined ? [] : [{ label: corpus[b.poison]!.label, rowId: corpus[b.poison]!.id ?? messageIds[index]!, reason: corpus[b.poison]!.reason }],
  );

  const settled = async () => {
    const [counts] = await scenario.store.database.rows<{ success: number; failure: number }>(sql`
      select count(*) filter (where status = 'SUCCESS')::int as success, count(*) filter (where status = 'FAILURE')::int as failure from task_results`);
    return counts!.success >= valid.length && counts!.failure >= corpus.length && (await queueDepth(scenario.emulator.sqs, queue.url)) === 0;
  };
  await waitFor(settled, 60_000, 'every message to settle').catch((error: unknown) => console.error(String(error)));
  await consumer.stop();

  const accounting = await account({
    scenario: `poison corpus, ${corpus.length} kinds (${databaseKind})`,
    database: scenario.store.database,
    sqs: scenario.emulator.sqs,
    deadLetterUrl: queue.deadLetterUrl,
    journal: scenario.files.journal,
    expected: { valid: valid.map((envelope) => envelope.id), poison },
  });
  const crashed = consumer.invocations.filter((invocation) => invocation.outcome !== 'ok');
  printAccounting(accounting, { 'poison kinds': corpus.length, batches: consumer.invocations.length, 'batches crashed': crashed.length });

  expect(fullyAccounted(accounting)).toEqual({ lost: [], ranTwice: [], misfiled: [], strayDeadLetters: 0, badReasonAttributes: [], total: accounting.sent });
  expect(accounting).toMatchObject({ succeeded: valid.length, deadLettered: corpus.length });
  expect(crashed).toEqual([]);
  // Rejected at pick-up: never claimed, never an attempt.
  for (const { rowId } of poison) expect(accounting.rows.get(rowId)).toMatchObject({ status: 'FAILURE', attempts: 0 });
  const oversize = poison.find((p) => p.label.includes('1 MiB'))!;
  const [stored] = await scenario.store.database.rows<{ payload: unknown }>(sql`select payload from task_results where id = ${oversize.rowId}`);
  expect(stored!.payload).toEqual({ truncated: true, bytes: expect.any(Number) });
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});
