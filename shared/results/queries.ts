import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './database.ts';
import { taskStatuses, type TaskStatus } from './schema.ts';

/** A task as lists show it. */
export interface TaskSummary {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly error: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly dateDone: string | null;
  readonly runtimeMs: number | null;
}

export interface AttemptView {
  readonly attempt: number;
  readonly status: TaskStatus;
  readonly error: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly runtimeMs: number | null;
}

/** A task with everything known about it. */
export interface TaskDetail extends TaskSummary {
  readonly payload: unknown;
  readonly result: unknown;
  readonly traceback: string | null;
  readonly attemptHistory: readonly AttemptView[];
}

/** Characters of a task's error a list row carries. */
export const listErrorChars = 500;
/** A list row's bytes besides its error: ids, names and timestamps, generously. */
const listRowOverheadBytes = 600;
/** A list page's budget, well inside the Data API's 1 MiB per response. */
const listPageBytes = 768 * 1024;

const timeColumns = sql`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt",
  to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "startedAt",
  to_char(date_done at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "dateDone",
  runtime_ms as "runtimeMs"`;
const summaryColumns = sql`id, name, queue, status, attempts, error, ${timeColumns}`;
const listColumns = sql`id, name, queue, status, attempts, left(error, ${listErrorChars}::int) as error, ${timeColumns}`;

export async function findTask(database: Database, id: string): Promise<TaskDetail | undefined> {
  const [row] = await database.rows<TaskSummary & { payload: string | null; result: string | null; traceback: string | null; attemptHistory: string }>(sql`
    select ${summaryColumns}, payload::text as payload, result::text as result, traceback,
      coalesce((
        select json_agg(json_build_object(
          'attempt', a.attempt, 'status', a.status, 'error', a.error, 'runtimeMs', a.runtime_ms,
          'startedAt', to_char(a.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'finishedAt', to_char(a.finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        ) order by a.attempt)::text
        from (
          select attempt, status, error, runtime_ms, started_at, finished_at from task_attempts where task_id = t.id
          union all
          -- The latest attempt, running or a first-time success, is told by the task's own row.
          select t.attempts, t.status, t.error, t.runtime_ms, t.started_at, t.date_done
          where t.attempts > 0 and t.started_at is not null
            and not exists (select 1 from task_attempts x where x.task_id = t.id and x.attempt = t.attempts)
        ) a
      ), '[]') as "attemptHistory"
    from task_results t where id = ${id}`);
  if (!row) return undefined;
  return {
    ...normalise(row),
    payload: row.payload === null ? null : JSON.parse(row.payload),
    result: row.result === null ? null : JSON.parse(row.result),
    traceback: row.traceback,
    attemptHistory: JSON.parse(row.attemptHistory) as AttemptView[],
  };
}

export interface HistoryFilter {
  readonly status?: TaskStatus;
  readonly task?: string;
  /** ISO time: tasks created at or after it. */
  readonly since?: string;
  /** Matches the id exactly, or appears in the payload's text. */
  readonly search?: string;
  /** @default 50 */
  readonly limit?: number;
}

/** The result store as history, newest first (Flower's task list, persistent). */
export async function listTasks(database: Database, filter: HistoryFilter = {}): Promise<TaskSummary[]> {
  const conditions: SQL[] = [];
  if (filter.status) conditions.push(sql`status = ${filter.status}`);
  if (filter.task) conditions.push(sql`name = ${filter.task}`);
  if (filter.since) conditions.push(sql`created_at >= ${filter.since}::timestamptz`);
  if (filter.search) conditions.push(sql`(id = ${filter.search} or strpos(lower(payload::text), lower(${filter.search})) > 0)`);
  const where = conditions.length > 0 ? sql`where ${sql.join(conditions, sql` and `)}` : sql``;
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
  // A list row carries the error's start (the task page has all of it), and a page stops
  // at `listPageBytes`, so any page fits the Data API's 1 MiB response.
  const rows = await database.rows<TaskSummary>(sql`
    select id, name, queue, status, attempts, error, "createdAt", "startedAt", "dateDone", "runtimeMs" from (
      select page.*, sum(octet_length(coalesce(error, '')) + ${listRowOverheadBytes}::int) over (order by created_at desc, id rows unbounded preceding) as bytes
      from (
        select ${listColumns}, created_at from task_results ${where} order by created_at desc, id limit ${limit}::int
      ) page
    ) sized
    where bytes <= ${listPageBytes}::int
    order by created_at desc, id`);
  return rows.map(normalise);
}

/**
 * Revokes a task (Celery's `control revoke`): a task not yet picked up is acknowledged
 * without running when it is; a running one keeps running but its outcome is discarded.
 * Finished tasks stay as they are. Returns the status the task now has.
 */
export async function revokeTask(database: Database, id: string, reason: string): Promise<TaskStatus> {
  const [row] = await database.rows<{ status: TaskStatus }>(sql`
    insert into task_results as r (id, name, queue, status, error, date_done)
    values (${id}, '', '', 'REVOKED', ${reason}, now())
    on conflict (id) do update set status = 'REVOKED', error = excluded.error, date_done = now()
      where r.status not in ('SUCCESS', 'FAILURE', 'REVOKED')
    returning r.status`);
  if (row) return row.status;
  const current = await database.rows<{ status: TaskStatus }>(sql`select status from task_results where id = ${id}`);
  return current[0]!.status;
}

export interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
}

export interface TaskStats {
  /** Finished tasks per minute, oldest first. */
  readonly perMinute: readonly { readonly minute: string; readonly succeeded: number; readonly failed: number; readonly retried: number }[];
  /** From creation to the first start, in milliseconds. */
  readonly waitMs: Percentiles;
  readonly runMs: Percentiles;
}

/** Throughput and latency over the last `minutes` minutes. */
export async function taskStats(database: Database, minutes: number): Promise<TaskStats> {
  const perMinute = await database.rows<{ minute: string; succeeded: number; failed: number; retried: number }>(sql`
    select to_char(minute at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') as minute,
      sum(succeeded)::int as succeeded, sum(failed)::int as failed, sum(retried)::int as retried
    from (
      select date_trunc('minute', date_done) as minute, (status = 'SUCCESS')::int as succeeded, (status = 'FAILURE')::int as failed, 0 as retried
      from task_results where date_done >= now() - ${minutes}::int * interval '1 minute'
      union all
      select date_trunc('minute', finished_at), 0, 0, 1
      from task_attempts where status = 'RETRY' and finished_at >= now() - ${minutes}::int * interval '1 minute'
    ) outcomes
    group by 1 order by 1`);
  const [latency] = await database.rows<{ wait50: number | null; wait95: number | null; run50: number | null; run95: number | null }>(sql`
    select
      percentile_cont(0.5) within group (order by extract(epoch from (first_start - created_at)) * 1000) as wait50,
      percentile_cont(0.95) within group (order by extract(epoch from (first_start - created_at)) * 1000) as wait95,
      percentile_cont(0.5) within group (order by runtime_ms) as run50,
      percentile_cont(0.95) within group (order by runtime_ms) as run95
    from (
      select t.created_at, t.runtime_ms, coalesce((select min(a.started_at) from task_attempts a where a.task_id = t.id), t.started_at) as first_start
      from task_results t
      where t.date_done >= now() - ${minutes}::int * interval '1 minute' and t.status = 'SUCCESS'
    ) finished`);
  const round = (value: number | null | undefined) => (value === null || value === undefined ? null : Math.round(Number(value)));
  return {
    perMinute: perMinute.map((row) => ({ minute: row.minute, succeeded: Number(row.succeeded), failed: Number(row.failed), retried: Number(row.retried) })),
    waitMs: { p50: round(latency?.wait50), p95: round(latency?.wait95) },
    runMs: { p50: round(latency?.run50), p95: round(latency?.run95) },
  };
}

export function isTaskStatus(value: string): value is TaskStatus {
  return (taskStatuses as readonly string[]).includes(value);
}

function normalise<Row extends TaskSummary>(row: Row): Row {
  return { ...row, attempts: Number(row.attempts), runtimeMs: row.runtimeMs === null ? null : Number(row.runtimeMs) };
}
