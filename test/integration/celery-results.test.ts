import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCeleryResults, type CeleryResultsSettings } from '../../shared/results/celery-results.ts';
import { revokeTask } from '../../shared/results/queries.ts';
import { cleanupTaskResults, noop } from '../../shared/tasks/default.ts';
import { celeryUnavailable } from '../support/celery-python.ts';
import { celeryAnswers, celeryRows, watchStates, type CelerySource, type Steps } from '../support/celery-results.ts';
import { envelope, sendBodies, startConsumer } from '../support/consumer.ts';
import { databaseKind, openTestDatabase, taskRow } from '../support/database.ts';
import { createTestQueue, region, startEmulator } from '../support/emulator.ts';
import { testImplementations, type Journal } from '../support/tasks.ts';
import { waitFor } from '../support/wait.ts';

/**
 * What a Python service configured as the seed reads of tasks that ran here: Debian's real
 * Celery 5 (`/usr/bin/python3`, test/fixtures/celery/results.py) through its SQLAlchemy result
 * backend. On PostgreSQL it connects to the test's schema. PGlite runs inside this process and
 * listens on no socket, so there Celery cannot connect: the rows the triggers wrote are read
 * here and handed to Celery, which decodes them as its backend does after its query.
 */
if (celeryUnavailable) console.warn(`celery-results: skipped, ${celeryUnavailable}`);
const bucket = 'celery-results';
const stage = 'test';
const settings: CeleryResultsSettings = { enabled: true, stage, bucket };

describe.skipIf(Boolean(celeryUnavailable))(`Celery's AsyncResult reads tasks that ran here (${databaseKind})`, () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let store: Awaited<ReturnType<typeof openTestDatabase>>;
  let source: CelerySource;
  let consumer: ReturnType<typeof startConsumer>;
  let queueUrl: string;
  const journal: Journal = new Map();

  beforeAll(async () => {
    emulator = await startEmulator();
    const s3 = new S3Client({ endpoint: emulator.endpoint, region, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    store = await openTestDatabase({ resultsBucket: { bucket, endpoint: emulator.endpoint, region } });
    expect(await applyCeleryResults(store.database, settings)).toBe('on');
    source = { database: store.database, url: process.env.DATABASE_URL, schema: store.schema };
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    queueUrl = queue.url;
    consumer = startConsumer({ sqs: emulator.sqs, queue, database: store.database, implementations: [...testImplementations(journal), noop, cleanupTaskResults] });
  });
  afterAll(async () => {
    await consumer?.stop();
    await store?.close();
    await emulator?.stop();
  });

  /** Sends the envelopes and waits until every task has ended (SUCCESS, FAILURE or REVOKED). */
  async function run(...tasks: ReturnType<typeof envelope>[]) {
    await sendBodies(emulator.sqs, queueUrl, tasks.map((task) => JSON.stringify(task)));
    await Promise.all(tasks.map((task) => ended(task.id)));
    return tasks.map((task) => task.id);
  }
  const ended = (id: string) => waitFor(async () => {
    const row = await taskRow(store.database, id);
    return row && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(row.status) ? row : undefined;
  }, 30_000, `${id} to end`);

  it("celery_pickle(value) loads in Python as json.loads loads the JSON JavaScript wrote for it", async () => {
    const values: unknown[] = [
      null, true, false, 0, -0, 1, -1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 123456789012345680000, 1e21, -1e21, 1e300, 5e-324, 1e-7, 0.1,
      1.7976931348623157e308, -2.5, '', 'a "quoted" \\ back\nslash\t\u0001', '\u00e9\u65e5\ud83c\udf89', 'x'.repeat(70_000), [], {}, [[[]]],
      { b: 1, a: [null, { c: 'd' }], '': 0, 'ключ': 'значение' }, Array.from({ length: 300 }, (_, n) => n % 7 === 0 ? n / 7 : String(n)),
    ];
    const rows = await store.database.rows<{ pickle: string; json: string }>(sql`
      select encode(celery_pickle(value), 'hex') as pickle, value::text as json from jsonb_array_elements(${JSON.stringify(values)}::jsonb) with ordinality as v(value, n) order by n`);
    // What json.loads gives is judged on the text JavaScript wrote, not on PostgreSQL's own rendering of it.
    const items = rows.map((row, n) => ({ pickle: row.pickle, json: JSON.stringify(values[n]) }));
    const [compared] = await celeryAnswers<{ same: boolean; got: string; want: string }[]>(source, [{ op: 'unpickle', items }]);
    expect(compared!.filter((item) => !item.same)).toEqual([]);
    expect(compared).toHaveLength(values.length);
  });

  it('get() returns what the task returned: dicts, lists, text, numbers of every size, booleans, None, Unicode, nesting', async () => {
    // `big` is beyond what a double holds exactly: JavaScript writes it as 12345678901234567000.
    const values = {
      dict: { a: 1, b: 'two' }, list: [1, 'two', null], text: 'plain', empty: ['', [], {}],
      int: 42, negative: -7, beyond32Bits: 3_000_000_000, big: Number('12345678901234567890'), above1e21: 1e300, float: 1.5, tiny: 1e-7,
      yes: true, no: false, none: null, unicode: 'ünïcødé ✓ 日本語 🎉', nested: { a: [{ b: { c: [1, [2, [3.25]]] } }] },
    };
    const echo = envelope('default.noop', { echo: values });
    const sum = envelope('default.test_add', { x: 0.1, y: 0.2 });
    const text = envelope('default.test_text', { chars: 3 });
    const nothing = envelope('default.noop', {});
    await run(echo, sum, text, nothing);

    const [a, b, c, d] = await celeryAnswers(source, [echo, sum, text, nothing].map((task) => ({ op: 'read', id: task.id })));
    expect(a).toMatchObject({ state: 'SUCCESS', status: 'SUCCESS', value: { json: { echo: JSON.parse(JSON.stringify(values)) as unknown } }, traceback: null, date_done_naive: true });
    // Python's own reading of the JSON JavaScript wrote: ints stay ints, floats floats, 1e300 a float.
    expect(a!.value!.repr).toMatch(/'big': 12345678901234567000[,}]/);
    expect(a!.value!.repr).toMatch(/'beyond32Bits': 3000000000[,}]/);
    expect(a!.value!.repr).toMatch(/'above1e21': 1e\+300[,}]/);
    expect(a!.value!.repr).toMatch(/'tiny': 1e-07[,}]/);
    expect(a!.value!.repr).toMatch(/'float': 1\.5[,}]/);
    expect(a!.value!.repr).toContain("'nested': {'a': [{'b': {'c': [1, [2, [3.25]]]}}]}");
    expect(a!.date_done_age_seconds).toBeGreaterThanOrEqual(0);
    expect(a!.date_done_age_seconds).toBeLessThan(60);
    expect(b!.value).toEqual({ json: 0.30000000000000004, repr: '0.30000000000000004', type: 'float' });
    expect(c!.value).toEqual({ json: 'xxx', repr: "'xxx'", type: 'str' });
    expect(d!.value).toMatchObject({ json: { echo: null }, repr: "{'echo': None}" });
  });

  it("a failure raises in Python with the exception's type and message, and has the traceback", async () => {
    const typeError = envelope('default.test_always_fails', {});
    const softLimit = envelope('default.test_sleep', { ms: 3000 });
    const plainError = envelope('default.test_odd_output', { fail: true });
    await run(typeError, softLimit, plainError);

    const [a, b, c] = await celeryAnswers(source, [typeError, softLimit, plainError].map((task) => ({ op: 'read', id: task.id })));
    // A name Python has built in comes back as that class, so `except TypeError:` catches it.
    expect(a).toMatchObject({ state: 'FAILURE', raised: { type: 'TypeError', module: 'builtins', message: 'this task always fails' } });
    expect(a!.traceback).toMatch(/^TypeError: this task always fails\n\s+at /);
    expect(a!.extended).toMatchObject({ retries: 2 });
    // Celery's time-limit errors are Celery's classes (celery.exceptions has them from billiard, whose str() shows the args).
    expect(b).toMatchObject({ state: 'FAILURE', raised: { type: 'SoftTimeLimitExceeded', module: 'billiard.exceptions', args: { json: ['soft time limit of 2 s exceeded'] } } });
    // Any other name: an Exception subclass of that name, built by Celery without looking the name up anywhere.
    expect(c).toMatchObject({ state: 'FAILURE', raised: { type: 'Error', module: 'celery.backends.base', message: 'bad \ufffd byte and \ufffd half' } });
  });

  it('states read as Celery reports them: PENDING for an unknown id, STARTED, RETRY, then the end', async () => {
    const sleeper = envelope('default.test_sleep', { ms: 1000 });
    const flaky = envelope('default.test_flaky', { failures: 1 });
    const statuses = async () => Promise.all([sleeper, flaky].map(async (task) => (await taskRow(store.database, task.id))?.status));
    const watched = await watchStates(source, [sleeper.id, flaky.id], () => sendBodies(emulator.sqs, queueUrl, [JSON.stringify(sleeper), JSON.stringify(flaky)]),
      async () => (await statuses()).every((status) => status === 'SUCCESS'));
    const states = (steps: Steps) => steps.map((step) => step.state).filter((state, i, all) => state !== all[i - 1]);

    // STARTED carries the worker, as mark_as_started's meta does (no process id here).
    expect(states(watched[sleeper.id]!).filter((state) => state !== 'PENDING')).toEqual(['STARTED', 'SUCCESS']);
    expect(watched[sleeper.id]!.find((step) => step.state === 'STARTED')!.info).toEqual({ json: { pid: null, hostname: `${stage}-consumer-default` }, repr: `{'pid': None, 'hostname': '${stage}-consumer-default'}`, type: 'dict' });
    expect(watched[sleeper.id]!.at(-1)).toEqual({ state: 'SUCCESS', info: { json: { slept: 1000 }, repr: "{'slept': 1000}", type: 'dict' } });
    // RETRY carries the exception the task retries for (mark_as_retry), then the retry succeeds.
    expect(states(watched[flaky.id]!)).toEqual(expect.arrayContaining(['RETRY', 'SUCCESS']));
    expect(watched[flaky.id]!.find((step) => step.state === 'RETRY')!.info).toMatchObject({ exception: { type: 'Error', message: 'planned failure 1 of 1' } });
    expect(watched[flaky.id]!.at(-1)).toMatchObject({ state: 'SUCCESS', info: { json: { attempt: 2 } } });

    const [unknown] = await celeryAnswers(source, [{ op: 'read', id: '7d3c1a90-0000-4000-8000-000000000000', wait: false }]);
    expect(unknown).toMatchObject({ state: 'PENDING', info: { json: null }, traceback: null, date_done_age_seconds: null });
  });

  it('a revoked task raises TaskRevokedError with the reason; so does one that expired', async () => {
    const revoked = envelope('default.noop', { echo: 'never' });
    await revokeTask(store.database, revoked.id, 'no longer needed');
    const expired = envelope('default.noop', { echo: 'late' }, { expires: new Date(Date.now() - 60_000).toISOString() });
    await run(revoked, expired);

    const [a, b] = await celeryAnswers(source, [{ op: 'read', id: revoked.id }, { op: 'read', id: expired.id }]);
    expect(a).toMatchObject({ state: 'REVOKED', raised: { type: 'TaskRevokedError', module: 'celery.exceptions', message: 'no longer needed', celery_revoked: true } });
    expect(b).toMatchObject({ state: 'REVOKED', raised: { type: 'TaskRevokedError', message: 'expired', celery_revoked: true } });
  });

  it("result_extended reads the task's Celery name, args, kwargs, worker, retries and queue; without it the same result", async () => {
    const cleanup = envelope('default.cleanup_task_results', { olderThanDays: 400 });
    const retried = envelope('default.test_flaky', { failures: 1 });
    await run(cleanup, retried);
    const [a, b] = await celeryAnswers(source, [{ op: 'read', id: cleanup.id }, { op: 'read', id: retried.id }]);
    expect(a).toMatchObject({ state: 'SUCCESS', value: { json: { deleted: 0 } } });
    expect(a!.extended).toEqual({ name: 'app.tasks.maintenance_tasks.cleanup_task_results', args: [], kwargs: { olderThanDays: 400 }, worker: `${stage}-consumer-default`, retries: 0, queue: 'default' });
    // A task without a Celery alias is known by its own name.
    expect(b!.extended).toMatchObject({ name: 'default.test_flaky', kwargs: { failures: 1 }, retries: 1 });

    const [plain] = await celeryAnswers(source, [{ op: 'read', id: cleanup.id }], { extended: false });
    expect(plain).toMatchObject({ state: 'SUCCESS', value: { json: { deleted: 0 } } });
    expect(plain!.extended).toBeUndefined();
  });

  it('a result kept in the results bucket is named, with its bucket and key, instead of copied', async () => {
    const large = envelope('default.test_text', { chars: 20_000 });
    await run(large);
    const [read] = await celeryAnswers(source, [{ op: 'read', id: large.id }]);
    const pointer = (read!.value!.json as { result_overflow: { bucket: string; key: string } }).result_overflow;
    expect(pointer).toEqual({ bucket, key: `task-results/${large.id}/1.json` });
    const s3 = new S3Client({ endpoint: emulator.endpoint, region, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const object = await s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
    expect(JSON.parse(await object.Body!.transformToString())).toEqual({ result: 'x'.repeat(20_000) });
    s3.destroy();
  });

  it('a row deleted from task_results (the result clean-up) leaves Celery reading PENDING', async () => {
    const task = envelope('default.noop', { echo: 1 });
    await run(task);
    await store.database.rows(sql`delete from task_results where id = ${task.id}`);
    expect(await celeryRows(store.database, [task.id])).toEqual([]);
  });

  it.skipIf(databaseKind === 'pglite')('GroupResult.save() and restore() from Python work on tasks that ran here (PostgreSQL: Python writes)', async () => {
    const members = [1, 2, 3].map((n) => envelope('default.test_add', { x: n, y: 10 }));
    await run(...members);
    const groupId = `group-${members[0]!.id}`;
    const [saved, restored] = await celeryAnswers<unknown>(source, [
      { op: 'group_save', group_id: groupId, ids: members.map((m) => m.id) },
      { op: 'group_restore', group_id: groupId },
    ]);
    expect(saved).toBe(true);
    expect(restored).toEqual({ ids: members.map((m) => m.id), values: { json: [11, 12, 13], repr: '[11, 12, 13]', type: 'list' } });
  });
});
