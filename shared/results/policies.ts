import { sql } from 'drizzle-orm';
import type { PolicyOverride } from '../catalogue/index.ts';
import type { Database } from './database.ts';

const updatedAt = sql`to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Every task's run-time policy changes, by task name (the table holds a row per changed task, so it stays small). */
export async function readTaskPolicies(database: Database): Promise<Map<string, PolicyOverride>> {
  const rows = await database.rows<{ task: string; rate_limit: string | null; soft: number | null; hard: number | null; concurrency: number | null; updated_at: string }>(sql`
    select task, rate_limit, soft_time_limit_seconds as soft, time_limit_seconds as hard, concurrency_limit as concurrency, ${updatedAt} as updated_at from task_policies`);
  return new Map(rows.map((row) => [row.task, {
    ...(row.rate_limit !== null ? { rateLimit: row.rate_limit } : {}),
    ...(row.concurrency !== null ? { concurrencyLimit: Number(row.concurrency) } : {}),
    ...(row.soft !== null && row.hard !== null ? { softTimeLimitSeconds: Number(row.soft), timeLimitSeconds: Number(row.hard) } : {}),
    updatedAt: row.updated_at,
  }]));
}

/** Sets a task's rate limit (normalised Celery syntax, `0` for none), keeping its other changes. */
export async function setRateLimitOverride(database: Database, task: string, rate: string): Promise<void> {
  await database.rows(sql`
    insert into task_policies (task, rate_limit, updated_at) values (${task}, ${rate}, now())
    on conflict (task) do update set rate_limit = excluded.rate_limit, updated_at = now()`);
}

/** Sets a task's soft and hard time limits, in seconds, keeping its other changes. */
export async function setTimeLimitOverride(database: Database, task: string, softSeconds: number, hardSeconds: number): Promise<void> {
  await database.rows(sql`
    insert into task_policies (task, soft_time_limit_seconds, time_limit_seconds, updated_at)
    values (${task}, ${softSeconds}::float8, ${hardSeconds}::float8, now())
    on conflict (task) do update set
      soft_time_limit_seconds = excluded.soft_time_limit_seconds, time_limit_seconds = excluded.time_limit_seconds, updated_at = now()`);
}

/** Sets how many of a task run at once per key (`0` for no limit), keeping its other changes. */
export async function setConcurrencyOverride(database: Database, task: string, limit: number): Promise<void> {
  await database.rows(sql`
    insert into task_policies (task, concurrency_limit, updated_at) values (${task}, ${limit}::int, now())
    on conflict (task) do update set concurrency_limit = excluded.concurrency_limit, updated_at = now()`);
}

/** Drops every change to a task's policy; returns whether it had any. */
export async function resetPolicyOverride(database: Database, task: string): Promise<boolean> {
  const rows = await database.rows<{ task: string }>(sql`delete from task_policies where task = ${task} returning task`);
  return rows.length > 0;
}
