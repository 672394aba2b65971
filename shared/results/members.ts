import { sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { storedResult } from './overflow.ts';
import type { TaskStatus } from './schema.ts';

export interface MemberState {
  readonly status: TaskStatus;
  readonly error: string | null;
  /** The result of a member that succeeded, read back from the results bucket where it overflowed. */
  readonly result: unknown;
}

/** The state of each task named, in one statement; a task with no row yet is absent. */
export async function memberStates(database: Database, ids: readonly string[]): Promise<Map<string, MemberState>> {
  const rows = await database.rows<{ id: string; status: TaskStatus; error: string | null; result: string | null; overflow_key: string | null }>(sql`
    select id, status, error, result::text as result, overflow_key from task_results
    where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`);
  const states = await Promise.all(rows.map(async (row) => [row.id, {
    status: row.status,
    error: row.error,
    result: row.status === 'SUCCESS' ? await storedResult(database.overflow, row.overflow_key, row.result) : undefined,
  }] as const));
  return new Map(states);
}
