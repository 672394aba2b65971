import { sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import type { TaskStatus } from './schema.ts';

/** Tasks of one name on one queue in one state, as the result store holds them. */
export interface StateCount {
  readonly name: string;
  readonly queue: string;
  readonly status: TaskStatus;
  readonly tasks: number;
}

/** Every task name's count per state, and its retries (attempts that ended in RETRY), in one statement. */
export async function stateCounts(database: Database): Promise<{ states: StateCount[]; retries: { name: string; queue: string; retries: number }[] }> {
  const rows = await database.rows<{ name: string; queue: string; status: string; tasks: number }>(sql`
    select name, queue, status, count(*)::int as tasks from task_results group by name, queue, status
    union all
    select r.name, r.queue, 'RETRIED' as status, count(*)::int as tasks
    from task_attempts a join task_results r on r.id = a.task_id where a.status = 'RETRY' group by r.name, r.queue`);
  return {
    states: rows.filter((row) => row.status !== 'RETRIED').map((row) => ({ ...row, status: row.status as TaskStatus, tasks: Number(row.tasks) })),
    retries: rows.filter((row) => row.status === 'RETRIED').map(({ name, queue, tasks }) => ({ name, queue, retries: Number(tasks) })),
  };
}

/** A task name's run times as a cumulative histogram: how many ran within each bound, their count and sum. */
export interface RuntimeHistogram {
  readonly name: string;
  readonly queue: string;
  /** Per bound of `boundsMs`, the tasks that ran within it. */
  readonly within: readonly number[];
  readonly count: number;
  readonly sumMs: number;
}

/** The run times of every finished task with one, per name, counted into `boundsMs` in one statement. */
export async function runtimeHistograms(database: Database, boundsMs: readonly number[]): Promise<RuntimeHistogram[]> {
  const buckets = sql.join(boundsMs.map((bound, n) => sql`count(*) filter (where runtime_ms <= ${bound}::int)::int as ${sql.raw(`b${n}`)}`), sql`, `);
  const rows = await database.rows<Record<string, number | string>>(sql`
    select name, queue, ${buckets}, count(*)::int as count, coalesce(sum(runtime_ms), 0)::float8 as "sumMs"
    from task_results where runtime_ms is not null and date_done is not null group by name, queue order by name`);
  return rows.map((row) => ({
    name: String(row.name),
    queue: String(row.queue),
    within: boundsMs.map((_, n) => Number(row[`b${n}`])),
    count: Number(row.count),
    sumMs: Number(row.sumMs),
  }));
}
