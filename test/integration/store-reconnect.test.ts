import pg from 'pg';
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { openTestDatabase } from '../support/database.ts';

const url = process.env.DATABASE_URL;

it.skipIf(!url)('keeps working after the server ends its idle connections, as a restart does (postgres)', async () => {
  const store = await openTestDatabase();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    // Four statements at once open the pool's four connections.
    const pids = await Promise.all(
      Array.from({ length: 4 }, async () => (await store.database.rows<{ pid: number }>(sql`select pg_backend_pid() as pid, pg_sleep(0.05)`))[0]!.pid),
    );
    await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [[...new Set(pids)]]);
    await new Promise((resolve) => setTimeout(resolve, 200));

    // The pool heard each connection end without crashing the process, and connects anew.
    const [row] = await store.database.rows<{ pid: number }>(sql`select pg_backend_pid() as pid`);
    expect(pids).not.toContain(row!.pid);
  } finally {
    await admin.end();
    await store.close();
  }
});
