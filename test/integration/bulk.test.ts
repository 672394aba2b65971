import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../shared/envelope/envelope.ts';
import { BulkFilterError, TaskOperations } from '../../shared/operations/index.ts';
import type { Database } from '../../shared/results/database.ts';
import type { TaskStatus } from '../../shared/results/schema.ts';
import { noop } from '../../shared/tasks/default.ts';
import { databaseKind } from '../support/database.ts';
import { createTestQueue, type TestQueue } from '../support/emulator.ts';
import { emulatorSuite } from '../support/emulator-suite.ts';
import { waitFor } from '../support/wait.ts';

interface Seeded {
  readonly id: string;
  readonly status: TaskStatus;
  readonly createdAt: string;
  readonly name?: string;
  readonly tenant?: string;
  readonly payload?: unknown;
  readonly overflowKey?: string;
}

/** Rows as consumers would have left them, each created at its own time. */
async function seed(database: Database, rows: readonly Seeded[]): Promise<void> {
  const input = JSON.stringify(rows.map((row) => ({ name: 'default.noop', payload: {}, tenant: null, overflowKey: null, ...row })));
  await database.rows(sql`
    insert into task_results (id, name, queue, status, payload, attempts, attempt_base, created_at, started_at, date_done, tenant, overflow_key)
    select id, name, split_part(name, '.', 1), status, payload, 1, 0, "createdAt", "createdAt",
      case when status in ('SUCCESS', 'FAILURE', 'REVOKED') then "createdAt"::timestamptz + interval '1 second' end, tenant, "overflowKey"
    from jsonb_to_recordset(${input}::jsonb) as x(id text, name text, status text, payload jsonb, "createdAt" timestamptz, tenant text, "overflowKey" text)`);
}

const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 9, minute)).toISOString();

async function statuses(database: Database): Promise<Record<string, string>> {
  const rows = await database.rows<{ id: string; status: string }>(sql`select id, status from task_results order by id`);
  return Object.fromEntries(rows.map((row) => [row.id, row.status]));
}

/** Every message waiting on a queue, taken off it. */
async function drain(sqs: SQSClient, queue: TestQueue): Promise<Envelope[]> {
  const bodies: Envelope[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((message) => JSON.parse(message.Body!) as Envelope));
  }
}

describe(`bulk retry, revoke and purge by filter (${databaseKind})`, () => {
  const suite = emulatorSuite({ implementations: [noop], resultsBucket: 'bulk-results' });
  const operationsOn = async () => {
    const ai = await createTestQueue(suite.emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const operations = new TaskOperations({ sqs: suite.emulator.sqs, database: suite.db.database, queues: { default: suite.queue, ai }, longDelays: null });
    return { operations, ai };
  };

  it('counts a dry run and shows the oldest matches, acting on nothing', async () => {
    const { operations } = await operationsOn();
    await seed(suite.db.database, [
      { id: 'a1', status: 'FAILURE', tenant: 'a', createdAt: at(1) },
      { id: 'a2', status: 'FAILURE', tenant: 'a', createdAt: at(2) },
      { id: 'b1', status: 'FAILURE', tenant: 'b', createdAt: at(3) },
      { id: 'a3', status: 'SUCCESS', tenant: 'a', createdAt: at(4) },
    ]);

    const outcome = await operations.bulk('retry', { tenant: 'a' }, { dryRun: true });

    expect(outcome).toMatchObject({ action: 'retry', dryRun: true, matched: 2, affected: 0, interrupted: false });
    expect(outcome.examples.map((example) => example.id)).toEqual(['a1', 'a2']);
    expect(await drain(suite.emulator.sqs, suite.queue)).toEqual([]);
    expect(await statuses(suite.db.database)).toMatchObject({ a1: 'FAILURE', a2: 'FAILURE' });
    await expect(operations.bulk('retry', { status: 'SUCCESS' }, { dryRun: true })).rejects.toThrow(BulkFilterError);
  });

  it('retries the failures of one tenant within a time range once, even run twice, and they then run', async () => {
    const { operations, ai } = await operationsOn();
    await seed(suite.db.database, [
      { id: 'early', status: 'FAILURE', tenant: 'acme', createdAt: at(1) },
      { id: 'in-1', status: 'FAILURE', tenant: 'acme', createdAt: at(2), payload: { echo: 'one' } },
      { id: 'in-2', status: 'FAILURE', tenant: 'acme', createdAt: at(3) },
      { id: 'ai-1', status: 'FAILURE', tenant: 'acme', createdAt: at(3), name: 'ai.process_ai_request', payload: { userId: 7, prompt: 'hi' } },
      { id: 'other', status: 'FAILURE', tenant: 'globex', createdAt: at(3) },
      { id: 'done', status: 'SUCCESS', tenant: 'acme', createdAt: at(3) },
      { id: 'late', status: 'FAILURE', tenant: 'acme', createdAt: at(5) },
    ]);
    const filter = { tenant: 'acme', since: at(2), until: at(5) };

    const first = await operations.bulk('retry', filter);
    const second = await operations.bulk('retry', filter);

    expect(first).toMatchObject({ matched: 3, affected: 3, skipped: [] });
    expect(second).toMatchObject({ matched: 0, affected: 0 });
    const sent = await drain(suite.emulator.sqs, suite.queue);
    expect(sent.map((envelope) => envelope.id).sort()).toEqual(['in-1', 'in-2']);
    expect(sent.find((envelope) => envelope.id === 'in-1')).toMatchObject({ task: 'default.noop', payload: { echo: 'one' }, tenant: 'acme' });
    expect((await drain(suite.emulator.sqs, ai)).map((envelope) => envelope.id)).toEqual(['ai-1']);
    expect(await statuses(suite.db.database)).toMatchObject({ early: 'FAILURE', 'in-1': 'PENDING', 'in-2': 'PENDING', 'ai-1': 'PENDING', other: 'FAILURE', late: 'FAILURE' });

    // Sent again, the marked tasks are claimed as any retry is, with a fresh budget.
    await operations.bulk('retry', { task: 'default.noop', tenant: 'globex' });
    suite.start();
    await waitFor(async () => (await statuses(suite.db.database)).other === 'SUCCESS', 20_000, 'the retried task to run');
    expect((await operations.result('other'))).toMatchObject({ status: 'SUCCESS', attempts: 2, result: { echo: null } });
  });

  it('interrupted after a page and run again, sends every failure exactly once', async () => {
    const { operations } = await operationsOn();
    await seed(suite.db.database, Array.from({ length: 7 }, (_, i) => ({ id: `f${i}`, status: 'FAILURE' as const, createdAt: at(i) })));
    const stop = new AbortController();
    const progress: number[] = [];

    const interrupted = await operations.bulk('retry', { task: 'default.noop' }, { pageSize: 3, signal: stop.signal, onProgress: (done) => stop.abort(progress.push(done)) });
    const resumed = await operations.bulk('retry', { task: 'default.noop' }, { pageSize: 3, onProgress: (done) => progress.push(done) });

    expect(interrupted).toMatchObject({ matched: 7, affected: 3, interrupted: true });
    expect(resumed).toMatchObject({ matched: 4, affected: 4, interrupted: false });
    expect(progress).toEqual([3, 3, 4]);
    const ids = (await drain(suite.emulator.sqs, suite.queue)).map((envelope) => envelope.id);
    expect(ids.sort()).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
  });

  it('leaves a failure it cannot send again as it is, saying why', async () => {
    const { operations } = await operationsOn();
    await seed(suite.db.database, [
      { id: 'summarised', status: 'FAILURE', createdAt: at(1), payload: { truncated: true, bytes: 40_000 } },
      { id: 'unknown', status: 'FAILURE', createdAt: at(2), name: 'app.tasks.gone' },
    ]);

    const outcome = await operations.bulk('retry', { since: at(0) });

    expect(outcome).toMatchObject({ matched: 2, affected: 0 });
    expect(outcome.skipped).toEqual([
      { id: 'summarised', reason: expect.stringMatching(/summarised; redrive its message/) },
      { id: 'unknown', reason: expect.stringMatching(/app\.tasks\.gone/) },
    ]);
    expect(await statuses(suite.db.database)).toEqual({ summarised: 'FAILURE', unknown: 'FAILURE' });
  });

  it('revokes the unfinished tasks a filter matches, and narrows to one state', async () => {
    const { operations } = await operationsOn();
    await seed(suite.db.database, [
      { id: 'started', status: 'STARTED', createdAt: at(1) },
      { id: 'retrying', status: 'RETRY', createdAt: at(2) },
      { id: 'pending', status: 'PENDING', createdAt: at(3), payload: { echo: 'needle' } },
      { id: 'finished', status: 'SUCCESS', createdAt: at(4), payload: { echo: 'needle' } },
      { id: 'elsewhere', status: 'RETRY', createdAt: at(5), name: 'ai.process_ai_request' },
    ]);

    const narrowed = await operations.bulk('revoke', { status: 'RETRY', task: 'default.noop' }, { reason: 'bad deploy' });
    const searched = await operations.bulk('revoke', { search: 'needle' }, { reason: 'bad deploy' });
    const rest = await operations.bulk('revoke', { task: 'default.noop' }, { pageSize: 1 });

    expect([narrowed.affected, searched.affected, rest.affected]).toEqual([1, 1, 1]);
    expect(await statuses(suite.db.database)).toEqual({ started: 'REVOKED', retrying: 'REVOKED', pending: 'REVOKED', finished: 'SUCCESS', elsewhere: 'RETRY' });
    expect(await operations.result('retrying')).toMatchObject({ error: 'bad deploy' });
    await expect(operations.bulk('revoke', { status: 'SUCCESS' })).rejects.toThrow(/revoke takes tasks in PENDING, STARTED, RETRY/);
  });

  it('purges the records of finished tasks, their attempts and overflow with them, never a running one', async () => {
    const { operations } = await operationsOn();
    const { database } = suite.db;
    const overflowKey = await database.overflow!.put('big', 1, { result: 'x'.repeat(20_000) });
    await seed(database, [
      { id: 'big', status: 'SUCCESS', createdAt: at(1), overflowKey },
      { id: 'failed', status: 'FAILURE', createdAt: at(2) },
      { id: 'revoked', status: 'REVOKED', createdAt: at(3) },
      { id: 'running', status: 'STARTED', createdAt: at(4) },
      { id: 'newer', status: 'SUCCESS', createdAt: at(9) },
    ]);
    await database.rows(sql`insert into task_attempts (task_id, attempt, status, started_at) values ('failed', 1, 'FAILURE', now())`);
    expect((await operations.result('big'))?.result).toHaveLength(20_000);

    const dry = await operations.bulk('purge', { until: at(9) }, { dryRun: true });
    const purged = await operations.bulk('purge', { until: at(9) }, { pageSize: 2 });
    const again = await operations.bulk('purge', { until: at(9) });

    expect(dry).toMatchObject({ matched: 3, affected: 0 });
    expect(purged).toMatchObject({ matched: 3, affected: 3 });
    expect(again).toMatchObject({ matched: 0, affected: 0 });
    expect(await statuses(database)).toEqual({ running: 'STARTED', newer: 'SUCCESS' });
    expect(await database.rows(sql`select * from task_attempts`)).toEqual([]);
    await expect(database.overflow!.get(overflowKey)).rejects.toThrow(/NoSuchKey|not exist/i);
  });

  it('keeps the tenant a consumer ran a task for, and lists by it and by time', async () => {
    const { operations } = await operationsOn();
    suite.start();
    const sent = await suite.producer.send('default.noop', {}, { tenant: 'initech' });
    await sent.get({ timeout: 20_000 });
    const created = (await operations.result(sent.id))!.createdAt;

    expect((await operations.history({ tenant: 'initech' })).map((task) => task.id)).toEqual([sent.id]);
    expect(await operations.history({ tenant: 'initech', until: created })).toEqual([]);
    expect(await operations.history({ tenant: 'someone-else' })).toEqual([]);
  });

  it("retries one failed task in the tenant's group it ran in, which a producer named", async () => {
    const { operations } = await operationsOn();
    await seed(suite.db.database, [{ id: 'retry-tenant', status: 'FAILURE', createdAt: at(40), tenant: 'acme' }]);
    expect((await operations.result('retry-tenant'))?.tenant).toBe('acme');
    await drain(suite.emulator.sqs, suite.queue);
    await operations.retry('retry-tenant');
    expect((await drain(suite.emulator.sqs, suite.queue)).map((envelope) => [envelope.id, envelope.tenant])).toEqual([['retry-tenant', 'acme']]);
  });
});
