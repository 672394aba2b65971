import { sql } from 'drizzle-orm';
import { tasks } from '../catalogue/index.ts';
import { implement } from '../runtime/task.ts';

export const noop = implement(tasks['default.noop'], (payload) => ({ echo: payload.echo ?? null }));

/** The seed's "result cleanup" next step: finished rows past the retention period go, and the keys of unique and debounced tasks a day past their windows. */
export const cleanupTaskResults = implement(tasks['default.cleanup_task_results'], async (payload, { database }) => {
  const rows = await database.rows<{ deleted: number }>(sql`
    with keys as (delete from task_keys where expires_at < now() - interval '1 day'),
    gone as (
      delete from task_results
      where status in ('SUCCESS', 'FAILURE', 'REVOKED')
        and date_done < now() - ${payload.olderThanDays}::int * interval '1 day'
      returning 1
    )
    select count(*)::int as deleted from gone`);
  return { deleted: Number(rows[0]?.deleted ?? 0) };
});

/** The `default` queue's tasks. */
export const defaultTasks = [noop, cleanupTaskResults];
