import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Envelope } from '../../shared/envelope/envelope.ts';
import { databaseKind } from '../support/database.ts';
import { createTestQueue } from '../support/emulator.ts';
import { startConsumer } from '../support/consumer.ts';
import { waitFor } from '../support/wait.ts';
import { account, fullyAccounted, printAccounting } from './accounting.ts';
import { faultImplementations } from './effects.ts';
import { inProcessScenario, sendTracked, sleep, work } from './harness.ts';
import { queueDepth } from '../support/sqs.ts';

const scenario = inProcessScenario('soak');

const seconds = 60;
const perSecond = 20;
const sampleEverySeconds = 3;
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

it(`keeps up with ${perSecond} tasks/s for ${seconds} s with bounded backlog and flat memory (${databaseKind})`, async () => {
  const queue = await createTestQueue(scenario.emulator.sqs, { visibilityTimeoutSeconds: 10 });
  // The consumer runs in this process, so this process's RSS is the consumer's.
  const consumer = startConsumer({ sqs: scenario.emulator.sqs, queue, database: scenario.store.database, implementations: faultImplementations(scenario.files.journal) });
  const sent: Envelope[] = [];
  const samples: { at: number; rssMiB: number; heapMiB: number; depth: number; done: number }[] = [];
  const started = Date.now();

  const sampler = (async () => {
    while (Date.now() - started < seconds * 1000) {
      await sleep(sampleEverySeconds * 1000 - ((Date.now() - started) % (sampleEverySeconds * 1000)));
      const [row] = await scenario.store.database.rows<{ done: number }>(sql`select count(*)::int as done from task_results where status = 'SUCCESS'`);
      const memory = process.memoryUsage();
      samples.push({ at: Math.round((Date.now() - started) / 1000), rssMiB: mib(memory.rss), heapMiB: mib(memory.heapUsed), depth: await queueDepth(scenario.emulator.sqs, queue.url), done: row!.done });
    }
  })();
  // A steady rate: ten messages every half second, each task working 20–200 ms.
  for (let tick = 0; tick < seconds * 2; tick++) {
    const batch = Array.from({ length: perSecond / 2 }, (_, index) => work(sent.length + index, 20 + Math.floor(Math.random() * 180)));
    sent.push(...batch);
    await sendTracked(scenario.emulator.sqs, queue.url, batch.map((envelope) => JSON.stringify(envelope)));
    await sleep(Math.max(0, started + (tick + 1) * 500 - Date.now()));
  }
  await sampler;
  await waitFor(async () => (await queueDepth(scenario.emulator.sqs, queue.url)) === 0, 30_000, 'the queue to drain').catch((error: unknown) => console.error(String(error)));
  const drainedAfterMs = Date.now() - started - seconds * 1000;
  await consumer.stop();

  console.log(['', '| t (s) | done | queue depth | RSS (MiB) | heap (MiB) |', '| ----- | ---- | ----------- | --------- | ---------- |',
    ...samples.map((s) => `| ${String(s.at).padStart(5)} | ${String(s.done).padStart(4)} | ${String(s.depth).padStart(11)} | ${String(s.rssMiB).padStart(9)} | ${String(s.heapMiB).padStart(10)} |`)].join('\n'));
  const accounting = await account({
    scenario: `soak ${perSecond}/s for ${seconds} s (${databaseKind})`,
    database: scenario.store.database,
    sqs: scenario.emulator.sqs,
    deadLetterUrl: queue.deadLetterUrl,
    journal: scenario.files.journal,
    expected: { valid: sent.map((envelope) => envelope.id) },
  });
  // Each third's floor: what RSS comes back to after garbage collection, whenever the collector happens to run.
  const third = Math.floor(samples.length / 3);
  const floor = (key: 'rssMiB' | 'heapMiB', part: typeof samples) => Math.min(...part.map((s) => s[key]));
  const [firstRss, lastRss] = [floor('rssMiB', samples.slice(0, third)), floor('rssMiB', samples.slice(-third))];
  const [firstHeap, lastHeap] = [floor('heapMiB', samples.slice(0, third)), floor('heapMiB', samples.slice(-third))];
  printAccounting(accounting, {
    'max depth': Math.max(...samples.map((s) => s.depth)),
    'RSS floor, first third (MiB)': firstRss,
    'RSS floor, last third (MiB)': lastRss,
    'heap floor, first/last third (MiB)': `${firstHeap}/${lastHeap}`,
    'drained after (s)': (drainedAfterMs / 1000).toFixed(1),
  });

  expect(fullyAccounted(accounting)).toEqual({ lost: [], ranTwice: [], misfiled: [], strayDeadLetters: 0, badReasonAttributes: [], total: sent.length });
  expect(accounting.succeeded).toBe(seconds * perSecond);
  expect(accounting.reRuns).toBe(0);
  expect(consumer.invocations.filter((invocation) => invocation.outcome !== 'ok')).toEqual([]);
  // The consumer keeps up: never more than a few seconds of traffic waiting, and no growth from the first third to the last.
  expect(Math.max(...samples.map((s) => s.depth))).toBeLessThanOrEqual(5 * perSecond);
  expect(mean(samples.slice(-third).map((s) => s.depth))).toBeLessThanOrEqual(mean(samples.slice(0, third).map((s) => s.depth)) + 2 * perSecond);
  // No steady growth: the last third's floor within a generous margin of the first's. RSS creeps while V8
  // keeps the pages it grew into; the heap after a collection is the sharper sign of a leak.
  expect(lastRss).toBeLessThanOrEqual(firstRss * 1.2 + 32);
  expect(lastHeap).toBeLessThanOrEqual(firstHeap * 1.5 + 16);
});
