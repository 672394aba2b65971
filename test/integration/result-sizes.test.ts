import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskProducer } from '../../shared/producer/producer.ts';
import { chain, chord, signatureByName } from '../../shared/producer/workflow.ts';
import { migrateDatabase, openDatabase, type Database } from '../../shared/results/database.ts';
import { finishTasks } from '../../shared/results/finish.ts';
import { inlineBytes } from '../../shared/results/overflow.ts';
import { findTask, listErrorChars, listTasks } from '../../shared/results/queries.ts';
import { noop } from '../../shared/tasks/default.ts';
import { envelope, sendBodies, startConsumer } from '../support/consumer.ts';
import { startDataApiDouble } from '../support/data-api.ts';
import { taskRow } from '../support/database.ts';
import { createTestQueue, region, startEmulator, type TestQueue } from '../support/emulator.ts';
import { testImplementations, testTaskDefinitions, type Journal } from '../support/tasks.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Outcomes of every size, through the Data API stand-in that refuses what the service
 * refuses (64 KB per row, 1 MiB per response, 4 MiB per request): none is lost, none
 * runs twice, and every reader gets the whole value back.
 */
describe('results of any size over the RDS Data API', () => {
  let api: Awaited<ReturnType<typeof startDataApiDouble>>;
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let database: Database;
  const bucket = 'results-sizes';

  beforeAll(async () => {
    api = await startDataApiDouble();
    emulator = await startEmulator();
    const s3 = new S3Client({ endpoint: emulator.endpoint, region, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    database = await openDatabase({ ...api.target, resultsBucket: { bucket, endpoint: emulator.endpoint, region } });
    await migrateDatabase(database);
  });
  afterAll(async () => {
    await database?.close();
    await emulator?.stop();
    await api?.stop();
  });

  /** Runs `bodies` through the real consumer until `done`, then stops it; returns each task's runs. */
  async function drain(bodies: readonly string[], done: () => Promise<boolean>, options: { database?: Database; queue?: TestQueue } = {}) {
    const queue = options.queue ?? (await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 }));
    const journal: Journal = new Map();
    await sendBodies(emulator.sqs, queue.url, bodies);
    const consumer = startConsumer({ sqs: emulator.sqs, queue, database: options.database ?? database, implementations: [...testImplementations(journal), noop] });
    try {
      await waitFor(done, 40_000, 'the outcomes');
    } finally {
      await consumer.stop();
    }
    return { journal, queue };
  }

  const status = async (id: string, db = database) => (await taskRow(db, id))?.status;

  it('reads back a 40,000-character echo through the task page and AsyncResult.get', async () => {
    const task = envelope('default.noop', { echo: 'e'.repeat(40_000) });
    const refusedBefore = api.state.failures.length;
    await drain([JSON.stringify(task)], async () => (await status(task.id)) === 'SUCCESS');

    const row = await taskRow(database, task.id);
    expect(row?.result).toBeNull();
    const detail = await findTask(database, task.id);
    expect(detail?.result).toEqual({ echo: 'e'.repeat(40_000) });
    const producer = new TaskProducer({ longDelays: null, sqs: emulator.sqs, queueUrls: {}, database });
    expect(await producer.result(task.id).get({ timeout: 1_000 })).toEqual({ echo: 'e'.repeat(40_000) });
    expect(api.state.failures.slice(refusedBefore)).toEqual([]);
  });

  it("fires a chord whose member returned 70,000 characters, the callback given every member's result", async () => {
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const producer = new TaskProducer({ longDelays: null, sqs: emulator.sqs, queueUrls: { default: queue.url }, database, extraTasks: Object.values(testTaskDefinitions) });
    const callback = signatureByName('default.test_text', { chars: 0 });
    const refusedBefore = api.state.failures.length;
    const journal: Journal = new Map();
    const consumer = startConsumer({ sqs: emulator.sqs, queue, database, implementations: testImplementations(journal) });
    try {
      const members = [70_000, 12, 30_000].map((chars) => signatureByName('default.test_text', { chars }));
      const result = await producer.apply(chord(members, callback));
      expect(await result.get({ timeout: 40_000 })).toEqual([70_000, 12, 30_000]);
    } finally {
      await consumer.stop();
    }
    expect(journal.get(callback.id)).toHaveLength(1);
    expect(api.state.failures.slice(refusedBefore)).toEqual([]);
  });

  it('records ten 450,000-character results of one batch, each task run exactly once', async () => {
    const tasks = Array.from({ length: 10 }, () => envelope('default.test_text', { chars: 450_000 }));
    const refusedBefore = api.state.failures.length;
    const { journal } = await drain(tasks.map((task) => JSON.stringify(task)), async () => {
      for (const task of tasks) if ((await status(task.id)) !== 'SUCCESS') return false;
      return true;
    });

    for (const task of tasks) {
      expect(journal.get(task.id)).toHaveLength(1);
      expect(((await findTask(database, task.id))?.result as string).length).toBe(450_000);
    }
    expect(api.state.failures.slice(refusedBefore)).toEqual([]);
  });

  it('records one 4,500,000-character result once and reads it back whole', async () => {
    const task = envelope('default.test_text', { chars: 4_500_000 });
    const { journal } = await drain([JSON.stringify(task)], async () => (await status(task.id)) === 'SUCCESS');

    expect(journal.get(task.id)).toHaveLength(1);
    expect(((await findTask(database, task.id))?.result as string).length).toBe(4_500_000);
  });

  it('keeps a long error and its traceback whole, the row holding their start', async () => {
    const task = envelope('default.test_text', { chars: 10_000, fail: true });
    await drain([JSON.stringify(task)], async () => (await status(task.id)) === 'FAILURE');

    const row = await taskRow(database, task.id);
    expect(Buffer.byteLength(row!.error!)).toBeLessThanOrEqual(inlineBytes.error);
    const detail = await findTask(database, task.id);
    // Compared as booleans: a failed comparison of 100,000 characters would print them all.
    expect(detail?.error === `retries exhausted after 1 attempts: Error: ${'e'.repeat(10_000)}`).toBe(true);
    expect(detail?.traceback === `Error: ${'t'.repeat(100_000)}`).toBe(true);
    expect(detail?.attemptHistory).toEqual([expect.objectContaining({ attempt: 1, status: 'FAILURE' })]);
  });

  it('records a result too large for a row as the task’s failure, once, when no results bucket is configured', async () => {
    const withoutBucket = await openDatabase(api.target);
    try {
      const task = envelope('default.test_text', { chars: 40_000 });
      const { journal, queue } = await drain([JSON.stringify(task)], async () => (await status(task.id, withoutBucket)) === 'FAILURE', { database: withoutBucket });

      expect(journal.get(task.id)).toHaveLength(1);
      expect((await taskRow(withoutBucket, task.id))?.error).toMatch(/^ResultTooLarge: the result is 40002 bytes, over the 16384 a row holds, and no results bucket is configured/);
      const { Messages = [] } = await emulator.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
      expect(Messages.map((message) => JSON.parse(message.Body!).id)).toEqual([task.id]);
    } finally {
      await withoutBucket.close();
    }
  });

  it('ends the chain after a step whose outcome was refused, its later steps failed with the reason', async () => {
    const withoutBucket = await openDatabase(api.target);
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const producer = new TaskProducer({ longDelays: null, sqs: emulator.sqs, queueUrls: { default: queue.url }, database: withoutBucket, extraTasks: Object.values(testTaskDefinitions) });
    const journal: Journal = new Map();
    const consumer = startConsumer({ sqs: emulator.sqs, queue, database: withoutBucket, implementations: testImplementations(journal) });
    try {
      const [first, last] = [signatureByName('default.test_text', { chars: 40_000 }), signatureByName('default.test_text', { chars: 1 })];
      await producer.apply(chain(first, last));
      const row = await waitFor(async () => {
        const found = await taskRow(withoutBucket, last.id);
        return found?.status === 'FAILURE' ? found : undefined;
      }, 20_000, 'the chain to end');
      expect(row.error).toMatch(/ResultTooLarge/);
      expect(journal.get(last.id)).toBeUndefined();
      expect((await taskRow(withoutBucket, first.id))?.status).toBe('FAILURE');
    } finally {
      await consumer.stop();
      await withoutBucket.close();
    }
  });

  it('records an outcome the results bucket refuses as the task’s failure with the reason, once', async () => {
    const missing = await openDatabase({ ...api.target, resultsBucket: { bucket: 'no-such-bucket', endpoint: emulator.endpoint, region } });
    try {
      const task = envelope('default.test_text', { chars: 40_000 });
      const { journal } = await drain([JSON.stringify(task)], async () => (await status(task.id, missing)) === 'FAILURE', { database: missing });

      expect(journal.get(task.id)).toHaveLength(1);
      expect((await taskRow(missing, task.id))?.error).toMatch(/^its outcome could not be kept in the results bucket: NoSuchBucket: /);
    } finally {
      await missing.close();
    }
  });

  it('records a batch too large for one request in statements the Data API accepts', async () => {
    // Quotes are escaped twice on the way (JSON input, then the request's JSON): 150 outcomes make over 12 MiB in one statement.
    const outcomes = Array.from({ length: 150 }, (_, n) => ({
      id: `large-batch-${n}`, name: 'default.noop', queue: 'default', status: 'FAILURE' as const,
      error: '"'.repeat(inlineBytes.error), traceback: '"'.repeat(inlineBytes.traceback),
    }));
    const statementsBefore = api.state.statements.length;
    const refusedBefore = api.state.failures.length;

    const finished = await finishTasks(database, outcomes);

    expect(finished.refused.size).toBe(0);
    expect(api.state.failures.slice(refusedBefore)).toEqual([]);
    expect(api.state.statements.length - statementsBefore).toBeGreaterThanOrEqual(12);
    const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from task_results where id like 'large-batch-%' and status = 'FAILURE'`);
    expect(Number(row!.n)).toBe(150);
  });

  it('records an outcome PostgreSQL refuses as its task’s failure with the reason, and its siblings as they were', async () => {
    const outcomes = ['a', 'b', 'c', 'd', 'e'].map((n) => ({ id: `refused-${n}`, name: 'default.noop', queue: 'default', status: 'REVOKED' as const, error: 'expired', createdAt: n === 'c' ? '2026-13-45T00:00:00Z' : '2026-01-01T00:00:00Z' }));

    const finished = await finishTasks(database, outcomes);

    expect([...finished.refused.keys()]).toEqual(['refused-c']);
    const rows = await database.rows<{ id: string; status: string; error: string }>(sql`select id, status, error from task_results where id like 'refused-%' order by id`);
    expect(rows.map((row) => [row.id, row.status])).toEqual([['refused-a', 'REVOKED'], ['refused-b', 'REVOKED'], ['refused-c', 'FAILURE'], ['refused-d', 'REVOKED'], ['refused-e', 'REVOKED']]);
    expect(rows[2]!.error).toMatch(/^its outcome could not be recorded: DatabaseErrorException: ERROR: date\/time field value out of range/);
  });

  it('lists 300 long failures in one page through the Data API', async () => {
    await database.rows(sql`
      insert into task_results (id, name, queue, status, error, attempts, created_at, date_done)
      select 'long-failure-' || lpad(n::text, 4, '0'), 'default.noop', 'default', 'FAILURE', repeat('€', 4000), 1,
        timestamptz '2030-01-01' + n * interval '1 second', now()
      from generate_series(1, 300) n`);
    const refusedBefore = api.state.failures.length;

    const page = await listTasks(database, { status: 'FAILURE', limit: 300 });

    expect(page.map((task) => task.id)).toEqual(Array.from({ length: 300 }, (_, i) => `long-failure-${String(300 - i).padStart(4, '0')}`));
    for (const task of page) expect(task.error).toBe('€'.repeat(listErrorChars));
    expect(api.state.failures.slice(refusedBefore)).toEqual([]);
  });
});
