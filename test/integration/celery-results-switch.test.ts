import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCeleryResults, type CeleryResultsSettings } from '../../shared/results/celery-results.ts';
import { migrateDatabase, openDatabase, type Database } from '../../shared/results/database.ts';
import { noop } from '../../shared/tasks/default.ts';
import { celeryUnavailable, runCeleryScript } from '../support/celery-python.ts';
import { celeryAnswers, pythonUrl, type CelerySource } from '../support/celery-results.ts';
import { envelope, sendBodies, startConsumer } from '../support/consumer.ts';
import { startDataApiDouble } from '../support/data-api.ts';
import { databaseKind, openTestDatabase, taskRow } from '../support/database.ts';
import { createTestQueue, startEmulator } from '../support/emulator.ts';
import { dropSchema, startLocalCloudProcess } from '../support/local-cloud.ts';
import { testImplementations } from '../support/tasks.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The switch (CELERY_RESULTS, applied by the migration step), the backfill of what ran before
 * it, tables Celery made itself, the Data API, and the local cloud as a Python service uses it.
 * Where Python cannot connect (PGlite), Celery decodes the rows read here (see celery-results.ts).
 */
if (celeryUnavailable) console.warn(`celery-results-switch: skipped, ${celeryUnavailable}`);
const settings: CeleryResultsSettings = { enabled: true, stage: 'test', bucket: undefined };
const off: CeleryResultsSettings = { ...settings, enabled: false };
const url = process.env.DATABASE_URL;

describe.skipIf(Boolean(celeryUnavailable))(`Celery results: the switch and the tables (${databaseKind})`, () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => emulator?.stop());

  /** Runs the tasks through the real consumer on `database` until each has succeeded. */
  async function run(database: Database, ...tasks: ReturnType<typeof envelope>[]) {
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const consumer = startConsumer({ sqs: emulator.sqs, queue, database, implementations: [...testImplementations(new Map()), noop] });
    try {
      await sendBodies(emulator.sqs, queue.url, tasks.map((task) => JSON.stringify(task)));
      for (const task of tasks) await waitFor(async () => (await taskRow(database, task.id))?.status === 'SUCCESS', 20_000, `${task.id} to succeed`);
    } finally {
      await consumer.stop();
    }
    return tasks.map((task) => task.id);
  }
  const celeryCount = async (database: Database) => Number((await database.rows<{ n: number }>(sql`select count(*)::int as n from celery_taskmeta`))[0]!.n);

  it('is off by default and writes nothing; on, it backfills what ran before in batches that resume; off again, rows stay as they were', async () => {
    const store = await openTestDatabase();
    try {
      const { database } = store;
      const source: CelerySource = { database, url, schema: store.schema };
      expect(await applyCeleryResults(database, off)).toBe('off');
      const before = await run(database, ...[1, 2, 3].map((n) => envelope('default.noop', { echo: n })));
      expect(await celeryCount(database)).toBe(0);

      // One batch of two, then the time is up; the next run goes on from there.
      expect(await applyCeleryResults(database, settings, { batchSize: 2, backfillMs: 0 })).toBe('backfilling');
      expect(await celeryCount(database)).toBe(2);
      expect(await applyCeleryResults(database, settings, { batchSize: 2 })).toBe('on');
      expect(await applyCeleryResults(database, settings, { batchSize: 2 })).toBe('on');
      const [later] = await run(database, envelope('default.noop', { echo: 4 }));
      const reads = await celeryAnswers(source, [...before, later!].map((id) => ({ op: 'read', id })));
      expect(reads.map((read) => [read.state, read.value?.json])).toEqual([1, 2, 3, 4].map((n) => ['SUCCESS', { echo: n }]));

      expect(await applyCeleryResults(database, off)).toBe('off');
      const [unseen] = await run(database, envelope('default.noop', { echo: 5 }));
      expect(await celeryCount(database)).toBe(4);
      // On again: the backfill starts afresh and writes what ran while it was off.
      expect(await applyCeleryResults(database, settings)).toBe('on');
      const [read] = await celeryAnswers(source, [{ op: 'read', id: unseen! }]);
      expect(read).toMatchObject({ state: 'SUCCESS', value: { json: { echo: 5 } } });
    } finally {
      await store.close();
    }
  });

  // Celery 5 creates result_extended's columns whatever the setting (TaskExtended extends the one table); tables
  // made by Celery versions from before result_extended lack them.
  it.each([
    ['Celery 5.2', false],
    ['a Celery from before result_extended', true],
  ])("works on tables %s created first, beside rows Celery's own workers store", async (_celery, withoutExtended) => {
    const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    let database: Database;
    if (url) {
      // Celery's create_all on an empty schema, as a Python service's first connection runs it.
      database = await openDatabase({ kind: 'postgres', url }, { schema });
      await runCeleryScript('results.py', { source: { url: pythonUrl(url), schema }, ops: [{ op: 'create_tables' }] }).answer;
    } else {
      // PGlite takes no connection from Python: Celery's DDL, as SQLAlchemy compiles it for PostgreSQL, is run here.
      const [ddl] = (await runCeleryScript<{ answers: string[][] }>('results.py', { source: { rows: [] }, ops: [{ op: 'ddl' }] }).answer).answers;
      database = await openDatabase({ kind: 'pglite' });
      for (const statement of ddl!) await database.rows(sql.raw(statement));
    }
    const extended = ['name', 'args', 'kwargs', 'worker', 'retries', 'queue'];
    if (withoutExtended) await database.rows(sql.raw(`alter table celery_taskmeta ${extended.map((column) => `drop column ${column}`).join(', ')}`));
    try {
      const columns = async () => database.rows<{ column_name: string; data_type: string }>(sql`
        select column_name, data_type from information_schema.columns where table_name = 'celery_taskmeta' and table_schema = current_schema() order by ordinal_position`);
      expect((await columns()).map((c) => c.column_name)).toEqual(['id', 'task_id', 'status', 'result', 'date_done', 'traceback', ...(withoutExtended ? [] : extended)]);
      await migrateDatabase(database);
      expect(await applyCeleryResults(database, settings)).toBe('on');
      // Celery's table kept, its extended columns added.
      expect(await columns()).toEqual([
        ['id', 'integer'], ['task_id', 'character varying'], ['status', 'character varying'], ['result', 'bytea'], ['date_done', 'timestamp without time zone'], ['traceback', 'text'],
        ['name', 'character varying'], ['args', 'bytea'], ['kwargs', 'bytea'], ['worker', 'character varying'], ['retries', 'integer'], ['queue', 'character varying'],
      ].map(([column_name, data_type]) => ({ column_name, data_type })));

      const pythonTask = randomUUID();
      const source: CelerySource = { database, url, schema: url ? schema : undefined };
      if (url) await celeryAnswers(source, [{ op: 'store', id: pythonTask, result: { from: 'python' }, state: 'SUCCESS' }]);
      const [ours] = await run(database, envelope('default.noop', { echo: 'ours' }));
      const reads = await celeryAnswers(source, [{ op: 'read', id: ours! }, ...(url ? [{ op: 'read', id: pythonTask }] : [])]);
      expect(reads[0]).toMatchObject({ state: 'SUCCESS', value: { json: { echo: 'ours' } }, extended: { name: 'default.noop', kwargs: { echo: 'ours' }, queue: 'default' } });
      if (url) expect(reads[1]).toMatchObject({ state: 'SUCCESS', value: { json: { from: 'python' } } });
    } finally {
      await database.close();
      if (url) await dropSchema(url, schema);
    }
  });

  it("never fails a task's own record when Celery's row cannot be written", async () => {
    const store = await openTestDatabase();
    try {
      const { database } = store;
      expect(await applyCeleryResults(database, settings)).toBe('on');
      // A constraint someone added on Celery's side refuses our SUCCESS rows.
      await database.rows(sql`alter table celery_taskmeta add constraint refuse_success check (status <> 'SUCCESS')`);
      const [id] = await run(database, envelope('default.noop', { echo: 'kept' }));
      expect(await taskRow(database, id!)).toMatchObject({ status: 'SUCCESS', result: '{"echo": "kept"}' });
      // The claim's STARTED row was written; the SUCCESS that followed was refused and left it behind.
      expect(await database.rows(sql`select status from celery_taskmeta where task_id = ${id!}`)).toEqual([{ status: 'STARTED' }]);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!url)("leaves our tables as they are when Celery's create_all runs on them (PostgreSQL: Celery connects)", async () => {
    const store = await openTestDatabase();
    try {
      await runCeleryScript('results.py', { source: { url: pythonUrl(url!), schema: store.schema }, ops: [{ op: 'create_tables' }] }).answer;
      const [id] = await store.database.rows<{ data_type: string }>(sql`
        select data_type from information_schema.columns where table_name = 'celery_taskmeta' and table_schema = current_schema() and column_name = 'id'`);
      expect(id).toEqual({ data_type: 'bigint' });
    } finally {
      await store.close();
    }
  });

  it('writes through the RDS Data API as through any driver: the triggers run inside the database', async () => {
    const api = await startDataApiDouble();
    const database = await openDatabase(api.target);
    try {
      await migrateDatabase(database);
      const [before] = await run(database, envelope('default.noop', { echo: 'before' }));
      expect(await applyCeleryResults(database, settings, { batchSize: 1 })).toBe('on');
      const failing = envelope('default.test_always_fails', {});
      const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
      const consumer = startConsumer({ sqs: emulator.sqs, queue, database, implementations: [...testImplementations(new Map()), noop] });
      await sendBodies(emulator.sqs, queue.url, [JSON.stringify(failing)]);
      await waitFor(async () => (await taskRow(database, failing.id))?.status === 'FAILURE', 30_000, 'the failure');
      await consumer.stop();

      const [a, b] = await celeryAnswers({ database, url: api.databaseUrl, schema: undefined }, [{ op: 'read', id: before! }, { op: 'read', id: failing.id }]);
      expect(a).toMatchObject({ state: 'SUCCESS', value: { json: { echo: 'before' } } });
      expect(b).toMatchObject({ state: 'FAILURE', raised: { type: 'TypeError', message: 'this task always fails' }, extended: { retries: 2 } });
      expect(api.state.failures).toEqual([]);
    } finally {
      await database.close();
      await api.stop();
    }
  });

  it.skipIf(!url)('npm start with CELERY_RESULTS=on: a Python service sends with Celery and gets the result with AsyncResult.get() (PostgreSQL: Python cannot reach PGlite)', async () => {
    const cloud = await startLocalCloudProcess({ CELERY_RESULTS: 'on' });
    try {
      expect(cloud.ready).toContain(' · Celery results in celery_taskmeta');
      const echo = { text: 'from Python', n: [1, 2.5], ok: true };
      const request = {
        source: { url: pythonUrl(url!), schema: cloud.schema },
        broker: { endpoint: cloud.endpoint, queues: { default: cloud.queueUrl('default') } },
        ops: [{ op: 'send', name: 'default.noop', kwargs: { echo }, queue: 'default', timeout: 60 }],
      };
      const [sent] = (await runCeleryScript<{ answers: { id: string; state: string; value: { json: unknown }; extended: Record<string, unknown> }[] }>('results.py', request, { timeoutMs: 90_000 }).answer).answers;
      expect(sent).toMatchObject({ state: 'SUCCESS', value: { json: { echo } }, extended: { name: 'default.noop', kwargs: { echo }, worker: 'local-consumer-default', queue: 'default', retries: 0 } });
    } finally {
      await cloud.cleanUp();
    }
  }, 120_000);
});
