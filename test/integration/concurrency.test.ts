import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { setConcurrencyOverride } from '../../shared/results/policies.ts';
import { sendBodies } from '../support/consumer.ts';
import { databaseKind } from '../support/database.ts';
import { emulatorSuite } from '../support/emulator-suite.ts';
import type { Journal } from '../support/tasks.ts';

/** The most runs of these tasks that were under way at one moment, from the journal's start and end times. */
function mostAtOnce(journal: Journal, ids: readonly string[]): number {
  const edges = ids.flatMap((id) => (journal.get(id) ?? []).flatMap((run) => [[run.start, 1], [run.end ?? Infinity, -1]] as const));
  // An end and a start at the same millisecond: the end first, as the slot was given back before it was taken.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let most = 0;
  for (const [, change] of edges) most = Math.max(most, (running += change));
  return most;
}

/** `concurrency: { key, limit }`: at most `limit` runs at once per key, across every consumer, held in the result store. */
describe(`concurrency limits per key on the SQS emulator and ${databaseKind}`, () => {
  const suite = emulatorSuite();
  beforeEach(() => {
    for (let n = 0; n < 2; n++) suite.start({ policyRefreshMs: 200 });
  });

  const exclusive = (account: string, count: number, ms = 300) =>
    suite.producer.sendBatch(Array.from({ length: count }, () => ({ task: 'default.test_exclusive', payload: { account, ms } })));
  const slotsHeld = async () => (await suite.db.database.rows<{ n: number }>(sql`select count(*)::int as n from concurrency_slots`))[0]!.n;

  it('runs at most two of one account at once across two consumers, while another account runs beside them, spending no attempts', async () => {
    // Tasks without a limit first, then with: one store runs both texts of the claim and of the record.
    const plain = await suite.producer.sendBatch(Array.from({ length: 3 }, (_, n) => ({ task: 'default.test_record', payload: { n } })));
    await Promise.all(plain.map((result) => result.get({ timeout: 30_000 })));
    const [busy, other] = await Promise.all([exclusive('a', 6, 200), exclusive('b', 2, 200)]);
    // One task sent again while the first delivery may be running: a duplicate takes no second slot.
    const duplicate = newEnvelope('default.test_exclusive', { account: 'a', ms: 200 });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(duplicate), JSON.stringify(duplicate)]);
    const all = [...busy!, ...other!, suite.producer.result(duplicate.id)];
    await Promise.all(all.map((result) => result.get({ timeout: 60_000 })));

    const accountA = [...busy!.map((result) => result.id), duplicate.id];
    expect(mostAtOnce(suite.journal, accountA)).toBe(2);
    expect(suite.journal.get(duplicate.id)).toHaveLength(1);
    // Account b never waited for a's slots: its runs overlapped a's.
    expect(mostAtOnce(suite.journal, [...accountA, ...other!.map((result) => result.id)])).toBeGreaterThan(2);
    const [attempts] = await suite.db.database.rows<{ max: number }>(sql`select max(attempts)::int as max from task_results where name = 'default.test_exclusive'`);
    expect(attempts!.max).toBe(1);
    expect(await slotsHeld()).toBe(0);
    // And back: a batch without a limit after batches with one.
    expect(await (await suite.producer.sendByName('default.test_record', { n: 9 })).get({ timeout: 30_000 })).toEqual({ n: 9 });
  });

  it('makes a task a singleton per key once an operator sets its limit to 1, without a restart', async () => {
    await setConcurrencyOverride(suite.db.database, 'default.test_exclusive', 1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const results = await exclusive('a', 3, 200);
    await Promise.all(results.map((result) => result.get({ timeout: 60_000 })));
    expect(mostAtOnce(suite.journal, results.map((result) => result.id))).toBe(1);
    expect(await slotsHeld()).toBe(0);
  });
});
