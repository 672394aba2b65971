import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskOperations } from '../../shared/operations/index.ts';
import { migrateDatabase, openDatabase, type Database } from '../../shared/results/database.ts';
import { isDatabaseResuming, retryWhileResuming } from '../../shared/results/resume.ts';
import { startDataApiDouble } from '../support/data-api.ts';
import { taskRow, taskRows } from '../support/database.ts';
import { createTestQueue, startEmulator } from '../support/emulator.ts';
import { envelope, sendBodies, startConsumer } from '../support/consumer.ts';
import { testImplementations, type Journal } from '../support/tasks.ts';
import { waitFor } from '../support/wait.ts';

/** The production path: drizzle's Data API driver through the real RDS Data client. */
describe('result store over the RDS Data API', () => {
  let api: Awaited<ReturnType<typeof startDataApiDouble>>;
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let database: Database;

  beforeAll(async () => {
    api = await startDataApiDouble();
    emulator = await startEmulator();
    database = await openDatabase(api.target);
  });
  afterAll(async () => {
    await database?.close();
    await emulator?.stop();
    await api?.stop();
  });

  it('applies the migrations with the Data API migrator, waiting out a resuming cluster', async () => {
    api.resumeFor(2);

    await retryWhileResuming(() => migrateDatabase(database), { timeoutMs: 10_000, pauseMs: 50 });

    const tables = await database.rows<{ table_name: string }>(sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`);
    expect(tables.map((t) => t.table_name)).toEqual(['ai_requests', 'celery_taskmeta', 'celery_tasksetmeta', 'chord_counters', 'concurrency_slots', 'documents', 'embeddings', 'exports', 'invoices', 'rate_limit_buckets', 'refunds', 'stripe_events', 'subscriptions', 'task_attempts', 'task_keys', 'task_policies', 'task_results', 'uploads', 'users']);
    await migrateDatabase(database);
  });

  it('runs a batch of 10 tasks through the real consumer in 2 Data API statements, besides the run-time policies read once per refresh', async () => {
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const journal: Journal = new Map();
    const batch = Array.from({ length: 10 }, (_, n) => envelope('default.test_record', { n }));
    await sendBodies(emulator.sqs, queue.url, batch.map((task) => JSON.stringify(task)));
    const before = api.state.statements.length;
    const consumer = startConsumer({ sqs: emulator.sqs, queue, database, implementations: testImplementations(journal) });

    await waitFor(async () => journal.size === 10 && (await taskRow(database, batch[9]!.id))?.status === 'SUCCESS', 20_000, 'the batch');
    await consumer.stop();

    expect(consumer.invocations).toEqual([expect.objectContaining({ records: 10, failed: 0 })]);
    const spent = api.state.statements.slice(before).filter((statement) => !statement.includes('from task_results where id'));
    expect(spent.filter((statement) => statement.includes('from task_policies'))).toHaveLength(1);
    expect(spent.filter((statement) => !statement.includes('from task_policies'))).toHaveLength(2);
    const rows = await taskRows(database);
    for (const task of batch) expect(rows.find((row) => row.id === task.id)).toMatchObject({ status: 'SUCCESS', attempts: 1 });
    expect(JSON.parse(rows.find((row) => row.id === batch[3]!.id)!.result!)).toEqual({ n: 3 });
  });

  it('records retries and failures over the Data API, and backs off a resuming cluster without spending attempts', async () => {
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const journal: Journal = new Map();
    const flaky = envelope('default.test_flaky', { failures: 1 });
    const doomed = envelope('default.test_always_fails', {});
    await sendBodies(emulator.sqs, queue.url, [JSON.stringify(flaky), JSON.stringify(doomed)]);
    api.resumeFor(1);
    const refusedBefore = api.state.refused.length;
    const consumer = startConsumer({ sqs: emulator.sqs, queue, database, implementations: testImplementations(journal) });
    await waitFor(() => api.state.resumingFor === 0, 10_000, 'the consumer to meet the resuming cluster');

    const done = await waitFor(async () => {
      // The test's own reads meet the resuming cluster too.
      const read = (id: string) => taskRow(database, id).catch(() => undefined);
      const [a, b] = [await read(flaky.id), await read(doomed.id)];
      return a?.status === 'SUCCESS' && b?.status === 'FAILURE' ? { a, b } : undefined;
    }, 40_000, 'the retry and the failure');
    await consumer.stop();

    // The batch's first statement (a fresh consumer's read of the run-time policies) met the resuming cluster; the outage spent no attempt.
    expect(api.state.refused.slice(refusedBefore)).toEqual([expect.stringContaining('from task_policies')]);
    expect(done.a.attempts).toBe(2);
    expect(done.b).toMatchObject({ attempts: 3, error: expect.stringContaining('retries exhausted after 3 attempts') });
    expect(journal.get(doomed.id)).toHaveLength(3);
  });

  it('retries, revokes and purges by filter over the Data API, a statement per page', async () => {
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const operations = new TaskOperations({ sqs: emulator.sqs, database, queues: { default: queue }, longDelays: null });
    const rows = ['FAILURE', 'FAILURE', 'FAILURE', 'STARTED', 'SUCCESS'].map((status, n) => ({ id: `data-api-bulk-${n}`, status, createdAt: new Date(Date.UTC(2026, 10, 27, 9, n)).toISOString() }));
    await database.rows(sql`
      insert into task_results (id, name, queue, status, payload, created_at, date_done, tenant)
      select id, 'default.noop', 'default', status, '{}'::jsonb, "createdAt", case when status <> 'STARTED' then "createdAt" end, 'data-api-bulk'
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id text, status text, "createdAt" timestamptz)`);
    const filter = { tenant: 'data-api-bulk' };
    const [before, failuresBefore] = [api.state.statements.length, api.state.failures.length];

    const dry = await operations.bulk('retry', filter, { dryRun: true });
    const retried = await operations.bulk('retry', filter, { pageSize: 2 });
    const revoked = await operations.bulk('revoke', filter);
    const purged = await operations.bulk('purge', filter);

    expect(dry).toMatchObject({ matched: 3, affected: 0, examples: [{ id: 'data-api-bulk-0', status: 'FAILURE', createdAt: '2026-11-27T09:00:00.000Z' }, expect.anything(), expect.anything()] });
    expect(retried).toMatchObject({ matched: 3, affected: 3, skipped: [] });
    // The retried tasks, PENDING until picked up, are unfinished: revoke takes them with the running one.
    expect(revoked).toMatchObject({ matched: 4, affected: 4 });
    expect(purged).toMatchObject({ matched: 5, affected: 5 });
    expect(api.state.failures.slice(failuresBefore)).toEqual([]);
    // The dry run counts and lists; the retry counts, then reads and marks each page of two, and reads an empty page; revoke and purge count, then act on one short page.
    expect(api.state.statements.length - before).toBe(2 + (1 + 2 * 2 + 1) + 2 + 2);
  });

  it('recognises the resuming error the SDK raises', async () => {
    api.resumeFor(1);
    const error = await database.rows(sql`select 1`).catch((e: unknown) => e);
    expect(isDatabaseResuming(error)).toBe(true);
  });

  it('migrates from the deploy trigger handler, through a resuming cluster', async () => {
    Object.assign(process.env, { DB_CLUSTER_ARN: api.target.resourceArn, DB_SECRET_ARN: api.target.secretArn, DB_NAME: 'tasks', AWS_ENDPOINT_URL_RDS_DATA: api.endpoint });
    api.resumeFor(1);

    const { handler } = await import('../../functions/migrate.ts');

    expect(await handler()).toEqual({ migrated: true, celeryResults: 'off' });
    expect(api.state.resumingFor).toBe(0);
  });
});
