import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listErrorChars, listTasks } from '../../shared/results/queries.ts';
import { databaseKind, openTestDatabase } from '../support/database.ts';

/** The Data API answers at most 1 MiB per call: a list page must fit whatever the rows hold. */
const dataApiResponseBytes = 1024 * 1024;

describe(`task list pages (${databaseKind})`, () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  beforeAll(async () => {
    db = await openTestDatabase();
    // 1,000 failures whose errors are 4,000 characters of a 3-byte character: 12 MB of errors in all.
    await db.database.rows(sql`
      insert into task_results (id, name, queue, status, error, attempts, created_at, date_done)
      select 'failed-' || lpad(n::text, 4, '0'), 'default.noop', 'default', 'FAILURE', repeat('€', 4000), 1,
        timestamptz '2026-01-01' + n * interval '1 second', now()
      from generate_series(1, 1000) n`);
  });
  afterAll(async () => db?.close());

  it('lists 300 long failures in one page that fits a Data API response, each with the start of its error', async () => {
    const page = await listTasks(db.database, { status: 'FAILURE', limit: 300 });

    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(dataApiResponseBytes);
    expect(page.map((t) => t.id)).toEqual(Array.from({ length: 300 }, (_, i) => `failed-${String(1000 - i).padStart(4, '0')}`));
    for (const task of page) expect(task.error).toBe('€'.repeat(listErrorChars));
  });

  it('stops a page at its byte budget, newest first, when the rows asked for would not fit', async () => {
    const page = await listTasks(db.database, { status: 'FAILURE', limit: 1000 });

    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(dataApiResponseBytes);
    expect(page.length).toBeGreaterThan(300);
    expect(page.length).toBeLessThan(1000);
    expect(page[0]!.id).toBe('failed-1000');
    expect(page.at(-1)!.id).toBe(`failed-${String(1001 - page.length).padStart(4, '0')}`);
  });
});
