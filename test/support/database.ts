import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { migrateDatabase, openDatabase, type Database } from '../../shared/results/database.ts';
import type { ResultsBucket } from '../../shared/results/overflow.ts';

/** Which database the suite runs on: the real server when `DATABASE_URL` is set, else PGlite. */
export const databaseKind = process.env.DATABASE_URL ? 'postgres' : 'pglite';

/**
 * A migrated result store of its own: a fresh schema on the real server, or a fresh
 * in-memory PGlite. `statements` counts every statement sent after migration.
 */
export async function openTestDatabase(options: { resultsBucket?: ResultsBucket } = {}) {
  const counter = { statements: 0, counting: false };
  const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const url = process.env.DATABASE_URL;
  const bucket = options.resultsBucket ? { resultsBucket: options.resultsBucket } : {};
  const database: Database = await openDatabase(url ? { kind: 'postgres', url, ...bucket } : { kind: 'pglite', image: await migratedImage(), ...bucket }, {
    ...(url ? { schema } : {}),
    onStatement: () => {
      if (counter.counting) counter.statements++;
    },
  });
  await migrateDatabase(database);
  counter.counting = true;
  return {
    database,
    counter,
    /** The connection settings a child process needs to reach the same store. */
    schema: url ? schema : undefined,
    async close() {
      counter.counting = false;
      if (url) await database.db.execute(sql.raw(`drop schema ${schema} cascade`));
      await database.close();
    },
  };
}

let image: Promise<Blob> | undefined;

/** One migrated PGlite per test process, kept as the image each test's fresh copy starts from. */
function migratedImage(): Promise<Blob> {
  return (image ??= (async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'taskq-pglite-'));
    try {
      const template = await openDatabase({ kind: 'pglite', dataDir });
      await migrateDatabase(template);
      await template.close();
      const [{ PGlite }, { vector }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-pgvector')]);
      const client = await PGlite.create(dataDir, { extensions: { vector } });
      const dump = await client.dumpDataDir('none');
      await client.close();
      return dump;
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  })());
}

export type TaskRow = {
  id: string;
  name: string;
  status: string;
  attempts: number;
  result: string | null;
  error: string | null;
  traceback: string | null;
  runtime_ms: number | null;
};

export async function taskRow(database: Database, id: string): Promise<TaskRow | undefined> {
  const rows = await database.rows<TaskRow>(sql`
    select id, name, status, attempts, result::text as result, error, traceback, runtime_ms
    from task_results where id = ${id}`);
  return rows[0];
}

export async function taskRows(database: Database): Promise<TaskRow[]> {
  return database.rows<TaskRow>(sql`
    select id, name, status, attempts, result::text as result, error, traceback, runtime_ms
    from task_results order by id`);
}

export { randomUUID };
