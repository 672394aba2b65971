import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './database.ts';
import { filterConditions, whereAll, type HistoryFilter } from './filter.ts';
import { withOverflow } from './overflow.ts';
import { taskStatuses, type TaskStatus } from './schema.ts';

export type { HistoryFilter } from './filter.ts';

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
  /** Whom it ran for, as its envelope or its catalogue entry's tenant field said. */
  readonly tenant: string | null;
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
const listColumns = sql`id, name, queue, status, attempts, left(error, ${listErrorChars}::int) as error, ${timeColumns}`;

const utc = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A task's latest attempts a task page shows. */
const shownAttempts = 100;

/**
 * A task with everything known about it. Its parts come as rows of their own (the summary,
 * the payload, the result, the traceback, each attempt), so each stays inside the Data
 * API's 64 KB per row whatever the others hold; what overflowed is read from the results bucket.
 */
export async function findTask(database: Database, id: string): Promise<TaskDetail | undefined> {
  const rows = await database.rows<{ part: 'task' | 'payload' | 'result' | 'traceback' | 'attempt'; seq: number; body: string }>(sql`
    select 'task' as part, 0 as seq, json_build_object(
        'id', id, 'name', name, 'queue', queue, 'status', status, 'attempts', attempts, 'error', error,
        'createdAt', ${utc(sql`created_at`)}, 'startedAt', ${utc(sql`started_at`)}, 'dateDone', ${utc(sql`date_done`)},
        'runtimeMs', runtime_ms, 'tenant', tenant, 'overflowKey', overflow_key)::text as body
      from task_results where id = ${id}
    union all select 'payload', 0, payload::text from task_results where id = ${id} and payload is not null
    union all select 'result', 0, result::text from task_results where id = ${id} and result is not null
    union all select 'traceback', 0, traceback from task_results where id = ${id} and traceback is not null
    union all select 'attempt', attempt, json_build_object(
        'attempt', attempt, 'status', status, 'error', error, 'runtimeMs', runtime_ms,
        'startedAt', ${utc(sql`started_at`)}, 'finishedAt', ${utc(sql`finished_at`)})::text
      from (
        select attempt, status, error, runtime_ms, started_at, finished_at from task_attempts where task_id = ${id}
        union all
        -- The latest attempt, running or a first-time success, is told by the task's own row.
        select t.attempts, t.status, t.error, t.runtime_ms, t.started_at, t.date_done from task_results t
        where t.id = ${id} and t.attempts > 0 and t.started_at is not null
          and not exists (select 1 from task_attempts x where x.task_id = t.id and x.attempt = t.attempts)
        order by attempt desc limit ${shownAttempts}::int
      ) a`);
  const part = (name: string) => rows.find((row) => row.part === name)?.body;
  const task = part('task');
  if (task === undefined) return undefined;
  const { overflowKey, ...summary } = JSON.parse(task) as TaskSummary & { tenant: string | null; overflowKey: string | null };
  const payload = part('payload');
  const result = part('result');
  const values = await withOverflow(database.overflow, overflowKey, {
    result: result === undefined ? null : JSON.parse(result) as unknown,
    error: summary.error,
    traceback: part('traceback') ?? null,
  });
  return {
    ...summary,
    ...values,
    payload: payload === undefined ? null : JSON.parse(payload),
    attemptHistory: rows.filter((row) => row.part === 'attempt').sort((a, b) => Number(a.seq) - Number(b.seq)).map((row) => JSON.parse(row.body) as AttemptView),
  };
}

/** The result store as history, newest first (Flower's task list, persistent). */
export async function listTasks(database: Database, filter: HistoryFilter = {}): Promise<TaskSummary[]> {
  const where = whereAll([...(filter.status ? [sql`status = ${filter.status}`] : []), ...filterConditions(filter)]);
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
