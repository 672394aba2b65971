import { sql } from 'drizzle-orm';
import type { Database } from './database.ts';

/**
 * Takes a unique task's key for `windowSeconds`, unless another task took it within its
 * window: returns the task that holds the key now, `taskId` itself when it won. The row
 * lock of the upsert serialises concurrent takers, so two sends never both win.
 */
export async function takeUniqueKey(database: Database, key: string, taskId: string, windowSeconds: number): Promise<string> {
  for (;;) {
    const [taken] = await database.rows<{ task_id: string }>(sql`
      insert into task_keys as k (key, task_id, sent_at, expires_at) values (${key}, ${taskId}, now(), now() + ${windowSeconds}::float8 * interval '1 second')
      on conflict (key) do update set task_id = excluded.task_id, sent_at = excluded.sent_at, expires_at = excluded.expires_at
        where k.expires_at <= now()
      returning k.task_id`);
    if (taken) return taken.task_id;
    const [held] = await database.rows<{ task_id: string }>(sql`select task_id from task_keys where key = ${key} and expires_at > now()`);
    // Expired between the two statements: take it again.
    if (held) return held.task_id;
  }
}

/**
 * Records a debounced task's send against its key, the later send winning (by its
 * envelope's `createdAt`); returns the send that holds the key now, and whether this call
 * made the key's row (no producer recorded the send: the key was first seen here).
 */
export async function latestDebounced(database: Database, key: string, taskId: string, sentAt: string, windowSeconds: number): Promise<{ taskId: string; sentAt: number; firstSeen: boolean }> {
  const [row] = await database.rows<{ task_id: string; sent_ms: number; first_seen: boolean }>(sql`
    insert into task_keys as k (key, task_id, sent_at, expires_at)
    values (${key}, ${taskId}, ${sentAt}::timestamptz, ${sentAt}::timestamptz + ${windowSeconds}::float8 * interval '1 second')
    on conflict (key) do update set
      task_id = case when excluded.sent_at > k.sent_at then excluded.task_id else k.task_id end,
      sent_at = greatest(k.sent_at, excluded.sent_at),
      expires_at = greatest(k.expires_at, excluded.expires_at)
    returning k.task_id, (extract(epoch from k.sent_at) * 1000)::float8 as sent_ms, (k.xmax = 0) as first_seen`);
  return { taskId: row!.task_id, sentAt: Number(row!.sent_ms), firstSeen: row!.first_seen === true };
}
