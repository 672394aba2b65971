import { BeginTransactionCommand, ExecuteStatementCommand, RDSDataClient, type ExecuteStatementCommandInput, type SqlParameter } from '@aws-sdk/client-rds-data';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../shared/results/database.ts';
import { startDataApiDouble } from '../support/data-api.ts';

/** The stand-in itself, through the real SDK client: it refuses what Aurora Serverless v2's Data API refuses. */
describe('the RDS Data API stand-in', () => {
  let api: Awaited<ReturnType<typeof startDataApiDouble>>;
  let client: RDSDataClient;
  const statementTimeoutMs = 1_500;
  const id = '6f1c1d52-3f8e-4a57-9d7e-2b8f0c1a9e44';

  const run = (statement: string, parameters?: SqlParameter[], extra: Partial<ExecuteStatementCommandInput> = {}) =>
    client.send(new ExecuteStatementCommand({ resourceArn: api.target.resourceArn, secretArn: api.target.secretArn, database: 'tasks', sql: statement, parameters, ...extra }));
  const firstRow = async (statement: string, parameters?: SqlParameter[], extra?: Partial<ExecuteStatementCommandInput>) => (await run(statement, parameters, extra)).records![0]!;

  beforeAll(async () => {
    api = await startDataApiDouble({ statementTimeoutMs });
    client = new RDSDataClient({ endpoint: api.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    await run('create table things (id uuid primary key, doc jsonb, at timestamptz, note text)');
  });
  afterAll(async () => {
    client?.destroy();
    await api?.stop();
  });

  describe('parameters', () => {
    it('binds an untyped stringValue as text, so a uuid column refuses it', async () => {
      await expect(run('insert into things (id) values (:id)', [{ name: 'id', value: { stringValue: id } }])).rejects.toMatchObject({
        name: 'DatabaseErrorException',
        message: expect.stringMatching(/^ERROR: column "id" is of type uuid but expression is of type text\n {2}Hint: .*\n {2}Position: \d+; SQLState: 42804$/),
      });
      await expect(run('select 1 from things where id = :id', [{ name: 'id', value: { stringValue: id } }])).rejects.toThrow('operator does not exist: uuid = text');
    });

    it('takes the string with a typeHint or an explicit cast', async () => {
      await run('insert into things (id, doc, at) values (:id, :doc, :at)', [
        { name: 'id', value: { stringValue: id }, typeHint: 'UUID' },
        { name: 'doc', value: { stringValue: '{"a":1}' }, typeHint: 'JSON' },
        { name: 'at', value: { stringValue: '2024-01-15 03:34:56.789' }, typeHint: 'TIMESTAMP' },
      ]);
      const row = await firstRow('select id, doc from things where id = :id::uuid', [{ name: 'id', value: { stringValue: id } }]);
      expect(row).toEqual([{ stringValue: id }, { stringValue: '{"a": 1}' }]);
    });

    it('gives each value kind and typeHint its PostgreSQL type', async () => {
      const kinds: [SqlParameter['value'], string | undefined, string][] = [
        [{ stringValue: 'x' }, undefined, 'text'],
        [{ longValue: 7 }, undefined, 'bigint'],
        [{ doubleValue: 1.5 }, undefined, 'double precision'],
        [{ booleanValue: true }, undefined, 'boolean'],
        [{ blobValue: new Uint8Array([1, 2]) }, undefined, 'bytea'],
        [{ stringValue: id }, 'UUID', 'uuid'],
        [{ stringValue: '{}' }, 'JSON', 'json'],
        [{ stringValue: '2024-01-15 03:34:56' }, 'TIMESTAMP', 'timestamp without time zone'],
        [{ stringValue: '2024-01-15' }, 'DATE', 'date'],
        [{ stringValue: '03:34:56' }, 'TIME', 'time without time zone'],
        [{ stringValue: '12.50' }, 'DECIMAL', 'numeric'],
      ];
      for (const [value, typeHint, type] of kinds) {
        expect(await firstRow('select pg_typeof(:v)::text', [{ name: 'v', value, ...(typeHint ? { typeHint } : {}) }] as SqlParameter[])).toEqual([{ stringValue: type }]);
      }
    });

    it('sends a NULL without a type, so PostgreSQL infers the column\'s', async () => {
      await run("insert into things (id, at) values ('00000000-0000-0000-0000-00000000000a', :at)", [{ name: 'at', value: { isNull: true } }]);
      expect(await firstRow("select at from things where id = '00000000-0000-0000-0000-00000000000a'")).toEqual([{ isNull: true }]);
    });

    it('refuses a TIMESTAMP hint that is not YYYY-MM-DD HH:MM:SS[.FFF]', async () => {
      await expect(run('select :at', [{ name: 'at', value: { stringValue: '2024-01-15T03:34:56+02:00' }, typeHint: 'TIMESTAMP' }])).rejects.toMatchObject({ name: 'BadRequestException' });
    });

    it('refuses arrayValue parameters', async () => {
      await expect(run('select 1 where 1 = any(:ids)', [{ name: 'ids', value: { arrayValue: { longValues: [1, 2] } } }])).rejects.toMatchObject({
        name: 'BadRequestException',
        message: 'Array parameters are not supported.',
      });
    });

    it('leaves :name alone in quotes and comments and after a :: cast', async () => {
      expect(await firstRow("select ':x' || '1'::text -- :y\n")).toEqual([{ stringValue: ':x1' }]);
    });
  });

  it('refuses two statements in one call, and runs neither', async () => {
    await expect(run("insert into things (id) values ('00000000-0000-0000-0000-000000000001'); select 1")).rejects.toMatchObject({
      name: 'ValidationException',
      message: "Multistatements aren't supported.",
    });
    expect(await firstRow("select count(*) from things where id = '00000000-0000-0000-0000-000000000001'")).toEqual([{ longValue: 0 }]);
  });

  describe('limits', () => {
    it('refuses a row over 64 KB and passes one under it', async () => {
      expect((await firstRow("select repeat('a', 60000)"))[0]!.stringValue).toHaveLength(60_000);
      await expect(run("select repeat('a', 70000)")).rejects.toMatchObject({ name: 'UnsupportedResultException', message: 'Packet for query is too large' });
    });

    it('refuses a response over 1 MiB', async () => {
      await expect(run("select repeat('a', 60000) from generate_series(1, 20)")).rejects.toMatchObject({
        name: 'UnsupportedResultException',
        message: 'The result exceeds the size limit 1 MB',
      });
      expect((await run("select repeat('a', 60000) from generate_series(1, 15)")).records).toHaveLength(15);
    });

    it('refuses a request over 4 MiB before running it', async () => {
      const big = 'b'.repeat(5 * 1024 * 1024);
      const before = api.state.statements.length;
      await expect(run('select length(:v)', [{ name: 'v', value: { stringValue: big } }])).rejects.toMatchObject({ $metadata: { httpStatusCode: 413 } });
      expect(api.state.statements.length).toBe(before);
    });

    it('answers StatementTimeoutException after the statement timeout and cancels the statement', async () => {
      const started = Date.now();
      await expect(run('select pg_sleep(5)')).rejects.toMatchObject({ name: 'StatementTimeoutException', message: 'Request timed out' });
      expect(Date.now() - started).toBeLessThan(statementTimeoutMs + 1_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await firstRow("select count(*) from pg_stat_activity where query = 'select pg_sleep(5)' and state = 'active'")).toEqual([{ longValue: 0 }]);
    });
  });

  it('lets a statement run on past the timeout with continueAfterTimeout, still answering the timeout', async () => {
    const statement = "insert into things (id) select '00000000-0000-0000-0000-00000000000b'::uuid from pg_sleep(2)";
    await expect(run(statement, undefined, { continueAfterTimeout: true })).rejects.toMatchObject({ name: 'StatementTimeoutException' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await firstRow("select count(*) from things where id = '00000000-0000-0000-0000-00000000000b'")).toEqual([{ longValue: 1 }]);
  });

  describe('result fields', () => {
    it('returns each type in the field kind and format of the service', async () => {
      const row = await firstRow(
        `select '2024-01-15 12:34:56.789+09'::timestamptz, '2024-01-15 12:34:56'::timestamp, 12.50::numeric, 7::int4, 2::int8, 1.5::float8,
                true, '\\x6869'::bytea, '{"a":1}'::jsonb, :id::uuid, array[1,2]::int[], array['a', null, 'b "c"']::text[], '2024-01-15'::date`,
        [{ name: 'id', value: { stringValue: id } }],
      );
      expect(row).toEqual([
        { stringValue: '2024-01-15 03:34:56.789' },
        { stringValue: '2024-01-15 12:34:56' },
        { stringValue: '12.50' },
        { longValue: 7 },
        { longValue: 2 },
        { doubleValue: 1.5 },
        { booleanValue: true },
        { blobValue: new Uint8Array(Buffer.from('hi')) },
        { stringValue: '{"a": 1}' },
        { stringValue: id },
        { arrayValue: { longValues: [1, 2] } },
        { arrayValue: { stringValues: ['a', null, 'b "c"'] } },
        { stringValue: '2024-01-15' },
      ]);
    });

    it('names real types in columnMetadata', async () => {
      const result = await run('select 1::int4 as n, now() as at, array[\'a\']::text[] as tags', undefined, { includeResultMetadata: true });
      expect(result.columnMetadata!.map((c) => [c.name, c.typeName])).toEqual([
        ['n', 'int4'],
        ['at', 'timestamptz'],
        ['tags', '_text'],
      ]);
    });

    it('refuses types and shapes the service cannot return, and passes void as NULL', async () => {
      await expect(run("select '1 day'::interval")).rejects.toMatchObject({ name: 'UnsupportedResultException', message: 'The result contains the unsupported data type INTERVAL.' });
      expect(await firstRow('select pg_sleep(0)')).toEqual([{ isNull: true }]);
      await expect(run('select array[[1,2],[3,4]]')).rejects.toMatchObject({ name: 'UnsupportedResultException', message: 'The result contains a multidimensional array.' });
    });

    it('formats records as JSON when asked', async () => {
      const result = await run("select 17 as a, 'x' as b, 1.5::float8 as c, null as d", undefined, { formatRecordsAs: 'JSON' });
      expect(result.records).toBeUndefined();
      expect(JSON.parse(result.formattedRecords!)).toEqual([{ a: 17, b: 'x', c: 1.5, d: null }]);
    });

    it('round-trips through drizzle’s Data API driver', async () => {
      const database = await openDatabase(api.target);
      try {
        const [row] = await database.rows<{ at: string; tags: string[]; n: number; amount: string }>(
          sql`select ${'2024-01-15 03:34:56.789'}::timestamptz as at, array['a','b']::text[] as tags, 3::int4 as n, 4.20::numeric as amount`,
        );
        expect(row).toEqual({ at: '2024-01-15 03:34:56.789', tags: ['a', 'b'], n: 3, amount: '4.20' });
      } finally {
        await database.close();
      }
    });
  });

  describe('transactions', () => {
    const begin = async () => (await client.send(new BeginTransactionCommand({ resourceArn: api.target.resourceArn, secretArn: api.target.secretArn, database: 'tasks' }))).transactionId!;

    it('refuses a second call while one runs in the same transaction', async () => {
      const transactionId = await begin();
      const slow = run('select pg_sleep(0.5)', undefined, { transactionId });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await expect(run('select 1', undefined, { transactionId })).rejects.toMatchObject({ name: 'DatabaseErrorException', message: 'Transaction is still running a query' });
      expect((await slow).records).toEqual([[{ isNull: true }]]);
    });

    it('ends a transaction whose statement failed', async () => {
      const transactionId = await begin();
      await expect(run('select 1/0', undefined, { transactionId })).rejects.toMatchObject({ name: 'DatabaseErrorException' });
      await expect(run('select 1', undefined, { transactionId })).rejects.toMatchObject({
        name: 'TransactionNotFoundException',
        message: `Transaction ${transactionId} is not found: Transaction has been aborted due to an error from a previous call.`,
      });
    });
  });

  it('ends a transaction left unused for the idle time', async () => {
    const idle = await startDataApiDouble({ transactionIdleMs: 200 });
    const idleClient = new RDSDataClient({ endpoint: idle.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    try {
      const arns = { resourceArn: idle.target.resourceArn, secretArn: idle.target.secretArn, database: 'tasks' };
      const { transactionId } = await idleClient.send(new BeginTransactionCommand(arns));
      await idleClient.send(new ExecuteStatementCommand({ ...arns, sql: 'select 1', transactionId }));
      await new Promise((resolve) => setTimeout(resolve, 400));
      await expect(idleClient.send(new ExecuteStatementCommand({ ...arns, sql: 'select 1', transactionId }))).rejects.toMatchObject({
        name: 'TransactionNotFoundException',
        message: `Transaction ${transactionId} is not found: Transaction may be expired.`,
      });
    } finally {
      idleClient.destroy();
      await idle.stop();
    }
  });

  it('records every refused statement with its reason', () => {
    expect(api.state.failures).toEqual(
      expect.arrayContaining([
        { sql: 'insert into things (id) values (:id)', reason: expect.stringContaining('DatabaseErrorException: ERROR: column "id" is of type uuid') },
        { sql: 'select 1 where 1 = any(:ids)', reason: 'BadRequestException: Array parameters are not supported.' },
        { sql: 'select pg_sleep(5)', reason: 'StatementTimeoutException: Request timed out' },
      ]),
    );
  });
});
