import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { effectivePolicy } from '../../shared/catalogue/index.ts';
import { activeOf } from '../../shared/operations/inspect.ts';
import { startedTasks } from '../../shared/results/inspect.ts';
import { readTaskPolicies, resetPolicyOverride, setRateLimitOverride, setTimeLimitOverride } from '../../shared/results/policies.ts';
import { databaseKind, taskRow } from '../support/database.ts';
import { emulatorSuite } from '../support/emulator-suite.ts';
import { envelope, sendBodies } from '../support/consumer.ts';
import { testTaskDefinitions } from '../support/tasks.ts';
import { waitFor } from '../support/wait.ts';

/** Operators' run-time policy changes, applied by a running consumer without a restart. */
describe(`run-time task policies on the SQS emulator and ${databaseKind}`, () => {
  const suite = emulatorSuite();
  beforeEach(() => {
    suite.start({ policyRefreshMs: 300 });
  });

  const finished = (id: string) =>
    waitFor(async () => {
      const row = await taskRow(suite.db.database, id);
      return row && ['SUCCESS', 'FAILURE'].includes(row.status) ? row : undefined;
    }, 30_000, `${id} to finish`);
  const startedAt = async (ids: readonly string[]) =>
    (await suite.db.database.rows<{ ms: number }>(sql`select extract(epoch from started_at) * 1000 as ms from task_results where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)) order by started_at`)).map((row) => Number(row.ms));

  it('throttles an unlimited task once a rate limit is set, and stops once it is reset', async () => {
    await setRateLimitOverride(suite.db.database, 'default.test_record', '1/s');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const limited = Array.from({ length: 4 }, (_, n) => envelope('default.test_record', { n }));
    await sendBodies(suite.emulator.sqs, suite.queue.url, limited.map((task) => JSON.stringify(task)));
    for (const task of limited) expect(await finished(task.id)).toMatchObject({ status: 'SUCCESS', attempts: 1 });
    const starts = await startedAt(limited.map((task) => task.id));
    // One token a second, one at once: four starts take three seconds at least, and none spent an attempt waiting.
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(2_900);

    expect(await resetPolicyOverride(suite.db.database, 'default.test_record')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const free = Array.from({ length: 4 }, (_, n) => envelope('default.test_record', { n: 10 + n }));
    await sendBodies(suite.emulator.sqs, suite.queue.url, free.map((task) => JSON.stringify(task)));
    for (const task of free) await finished(task.id);
    const again = await startedAt(free.map((task) => task.id));
    expect(again.at(-1)! - again[0]!).toBeLessThan(1_000);
  });

  it('ends a task at the time limits an operator set, and names the claiming invocation while it runs', async () => {
    const slow = envelope('default.test_sleep', { ms: 1_500 });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(slow)]);
    const running = await waitFor(async () => (await startedTasks(suite.db.database, 10)).find((row) => row.id === slow.id), 10_000, 'the task to be claimed');
    const active = activeOf(running);
    expect(active).toMatchObject({ task: 'default.test_sleep', attempt: 1, leaseExpired: false, consumer: expect.stringMatching(/^consumer-t-[0-9a-f]{8}:[0-9a-f-]{36}$/) });
    // The lease is the one the claim enforces: the queue's consumer timeout (the test queue's 4 s) from the start.
    expect(Date.parse(active.leaseExpiresAt) - Date.parse(active.startedAt)).toBe(4_000);
    expect(await finished(slow.id)).toMatchObject({ status: 'SUCCESS' });

    await setTimeLimitOverride(suite.db.database, 'default.test_sleep', 0.3, 0.6);
    expect(effectivePolicy(testTaskDefinitions.sleep, (await readTaskPolicies(suite.db.database)).get('default.test_sleep'))).toMatchObject({ softTimeLimitSeconds: 0.3, timeLimitSeconds: 0.6 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const cut = envelope('default.test_sleep', { ms: 1_500 });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(cut)]);
    const row = await finished(cut.id);
    expect(row).toMatchObject({ status: 'FAILURE', error: expect.stringMatching(/SoftTimeLimitExceeded: soft time limit of 0.3 s exceeded/) });
    expect(row.runtime_ms).toBeLessThan(1_000);
  });
});
