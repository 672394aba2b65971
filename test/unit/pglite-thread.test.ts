import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPermanentRefusal } from '../../shared/errors.ts';
import { PgliteThread } from '../../shared/results/pglite-thread.ts';

describe('PGlite on its own thread', () => {
  let db: PgliteThread;
  beforeAll(async () => {
    db = await PgliteThread.start({});
    await db.exec('create table t (n int primary key, at timestamptz not null default now())');
  });
  afterAll(() => db.close());

  it('answers queries in rows or arrays, keeping the types drizzle reads as text as text', async () => {
    await db.query('insert into t (n, at) values ($1, $2)', [1, '2026-12-02T12:00:00Z']);
    const parsers = { 1184: (value: string) => value };
    expect((await db.query('select n, at from t', [], { rowMode: 'object', parsers })).rows).toEqual([{ n: 1, at: '2026-12-02 12:00:00+00' }]);
    expect((await db.query('select n from t', [], { rowMode: 'array' })).rows).toEqual([[1]]);
  });

  it("raises PostgreSQL's errors with their SQLSTATE, which decides whether a refusal is permanent", async () => {
    const error = await db.query("select 'a'::int").catch((caught: unknown) => caught as Error & { code?: string });
    expect(error).toMatchObject({ message: expect.stringMatching(/invalid input syntax for type integer/), code: '22P02' });
    expect(isPermanentRefusal(error)).toBe(true);
  });

  it('holds other queries back while a transaction is open, and rolls back when its work throws', async () => {
    let seenInside: unknown[] = [];
    const outside = Promise.withResolvers<void>();
    const transaction = db.transaction(async (tx) => {
      await tx.query('insert into t (n) values (2)');
      // Sent while the transaction is open: it runs after the rollback, so it never sees row 2.
      void db.query('select n from t order by n', [], { rowMode: 'array' }).then((result) => {
        seenInside = result.rows;
        outside.resolve();
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new Error('changed my mind');
    });
    await expect(transaction).rejects.toThrow('changed my mind');
    await outside.promise;
    expect(seenInside).toEqual([[1]]);
  });

  it('prepares a named statement once and runs it with any text, quotes and backslashes included', async () => {
    const texts = ["it's", 'a\\b', '{"json": "\'quoted\'"}', ''];
    const sql = "select $1::text as text, $2::int + 1 as next, $3::jsonb as doc";
    const results = await Promise.all(texts.map((text, n) => db.prepared('echo_row', sql, [text, n, JSON.stringify({ text })], { rowMode: 'object' })));
    expect(results.map((result) => result.rows[0])).toEqual(texts.map((text, n) => ({ text, next: n + 1, doc: { text } })));
    const statements = await db.query("select count(*)::int as n from pg_prepared_statements where name = 'echo_row'", [], { rowMode: 'object' });
    expect(statements.rows).toEqual([{ n: 1 }]);
  });

  it('binds parameters it cannot write as literals, unprepared', async () => {
    const result = await db.prepared('bytes_row', 'select length($1::bytea) as n', [new Uint8Array([1, 2, 3])], { rowMode: 'object' });
    expect(result.rows).toEqual([{ n: 3 }]);
  });

  it('commits a transaction whose work resolves', async () => {
    await db.transaction(async (tx) => {
      await tx.query('insert into t (n) values (3)');
    });
    expect((await db.query('select n from t order by n', [], { rowMode: 'array' })).rows).toEqual([[1], [3]]);
  });
});

describe('PGlite transactions begun together', () => {
  it('run one after another, each seeing what the one before committed', async () => {
    const db = await PgliteThread.start({});
    try {
      await db.exec('create table counter (n int not null); insert into counter values (0)');
      const seen = await Promise.all(
        Array.from({ length: 3 }, () =>
          db.transaction(async (tx) => {
            const [[n]] = (await tx.query('select n from counter', [], { rowMode: 'array' })).rows as [[number]];
            await new Promise((resolve) => setTimeout(resolve, 10));
            await tx.query('update counter set n = $1', [n + 1]);
            return n;
          }),
        ),
      );
      expect(seen).toEqual([0, 1, 2]);
    } finally {
      await db.close();
    }
  });
});
