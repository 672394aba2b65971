import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './database.ts';
import { listErrorChars } from './queries.ts';

const utc = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A task some consumer has claimed and not finished, as its row tells it. */
export interface StartedRow {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  /** The invocation that claimed it; null for a claim from before the store recorded it. */
  readonly worker: string | null;
  readonly startedAt: string;
  /** When the claim's lease ends; null for a claim from before the store recorded it. */
  readonly leaseUntil: string | null;
  /** This run's attempt (1 on the first, counted afresh after a redrive). */
  readonly attempt: number;
  /** The store's clock when it answered, so leases are judged on the clock that wrote them. */
  readonly now: string;
}

/**
 * Every task in STARTED, oldest first. A claimed task has no `date_done` until it ends, so
 * the `date_done` index finds them without a scan of the table or an index of their own.
 */
export async function startedTasks(database: Database, limit: number): Promise<StartedRow[]> {
  const rows = await database.rows<StartedRow>(sql`
    select id, name, queue, worker, ${utc(sql`started_at`)} as "startedAt", ${utc(sql`lease_until`)} as "leaseUntil", attempts - attempt_base as attempt, ${utc(sql`now()`)} as now
    from task_results where date_done is null and status = 'STARTED'
    order by started_at limit ${limit}::int`);
  return rows.map((row) => ({ ...row, attempt: Number(row.attempt) }));
}

/** A task waiting out its retry back-off. */
export interface RetryingRow {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly error: string | null;
  /** When the failed attempt began. */
  readonly startedAt: string | null;
}

/** Tasks in RETRY, newest first (the partial status index holds them). */
export async function retryingTasks(database: Database, limit: number): Promise<RetryingRow[]> {
  const rows = await database.rows<RetryingRow>(sql`
    select id, name, queue, attempts - attempt_base as attempt, left(error, ${listErrorChars}::int) as error, ${utc(sql`started_at`)} as "startedAt"
    from task_results where status = 'RETRY'
    order by created_at desc limit ${limit}::int`);
  return rows.map((row) => ({ ...row, attempt: Number(row.attempt) }));
}

export interface Latency {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** One queue's finished work over a window. */
export interface QueueThroughput {
  readonly queue: string;
  readonly succeeded: number;
  readonly failed: number;
  readonly retried: number;
  /** From creation to the first start, of the tasks that succeeded. */
  readonly waitMs: Latency;
  readonly runMs: Latency;
}

type LatencyRow = Record<`${'wait' | 'run'}${50 | 95 | 99}`, number | null>;

/** Outcomes and latency percentiles per queue over the last `minutes` minutes, from the `date_done` index. */
export async function queueThroughput(database: Database, minutes: number): Promise<QueueThroughput[]> {
  const since = sql`now() - ${minutes}::int * interval '1 minute'`;
  const percentile = (p: number, column: SQL) => sql`percentile_cont(${p}::float8) within group (order by ${column}) filter (where status = 'SUCCESS')`;
  const rows = await database.rows<{ queue: string; succeeded: number; failed: number; retried: number } & LatencyRow>(sql`
    with finished as (
      select t.queue, t.status, t.runtime_ms,
        extract(epoch from (coalesce((select min(a.started_at) from task_attempts a where a.task_id = t.id), t.started_at) - t.created_at)) * 1000 as wait_ms
      from task_results t where t.date_done >= ${since} and t.status in ('SUCCESS', 'FAILURE')
    ),
    outcomes as (
      select queue, count(*) filter (where status = 'SUCCESS') as succeeded, count(*) filter (where status = 'FAILURE') as failed,
        ${percentile(0.5, sql`wait_ms`)} as wait50, ${percentile(0.95, sql`wait_ms`)} as wait95, ${percentile(0.99, sql`wait_ms`)} as wait99,
        ${percentile(0.5, sql`runtime_ms`)} as run50, ${percentile(0.95, sql`runtime_ms`)} as run95, ${percentile(0.99, sql`runtime_ms`)} as run99
      from finished group by queue
    ),
    retries as (
      select r.queue, count(*) as retried from task_attempts a join task_results r on r.id = a.task_id
      where a.status = 'RETRY' and a.finished_at >= ${since} group by r.queue
    )
    select coalesce(o.queue, x.queue) as queue, coalesce(o.succeeded, 0)::int as succeeded, coalesce(o.failed, 0)::int as failed,
      coalesce(x.retried, 0)::int as retried, o.wait50, o.wait95, o.wait99, o.run50, o.run95, o.run99
    from outcomes o full join retries x on x.queue = o.queue`);
  const round = (value: number | null | undefined) => (value === null || value === undefined ? null : Math.round(Number(value)));
  return rows.map((row) => ({
    queue: row.queue,
    succeeded: Number(row.succeeded),
    failed: Number(row.failed),
    retried: Number(row.retried),
    waitMs: { p50: round(row.wait50), p95: round(row.wait95), p99: round(row.wait99) },
    runMs: { p50: round(row.run50), p95: round(row.run95), p99: round(row.run99) },
  }));
}
