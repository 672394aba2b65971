import { sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import type { TaskStatus } from './schema.ts';

/** A task about to run: the claim marks it STARTED and counts the attempt. */
export interface ClaimRequest {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly payload: unknown;
  readonly createdAt: string;
}

export interface ClaimResult {
  readonly id: string;
  /** Set when this consumer won the task: attempts over its life, and the base of the current run. */
  readonly attempts: number | null;
  readonly attemptBase: number | null;
  /** The row's status before the claim, when it existed. */
  readonly priorStatus: TaskStatus | null;
}

/**
 * Claims a batch of tasks in one statement. A task is claimed unless it already ended
 * (SUCCESS, REVOKED) or another consumer holds it (STARTED within the lease). A FAILURE
 * claimed again is a redrive from the dead-letter queue: its retry budget starts afresh.
 * Each claim opens the task's attempt row.
 */
export async function claimTasks(
  database: Database,
  requests: readonly ClaimRequest[],
  leaseSeconds: number,
): Promise<ClaimResult[]> {
  if (requests.length === 0) return [];
  const input = JSON.stringify(requests.map((r) => ({ ...r, payload: storablePayload(r.payload) })));
  const rows = await database.rows<{ id: string; attempts: number | null; attempt_base: number | null; prior_status: TaskStatus | null }>(sql`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb)
        as x(id text, name text, queue text, payload jsonb, "createdAt" timestamptz)
    ),
    prior as (
      select r.id, r.status from task_results r join input i on i.id = r.id
    ),
    claimed as (
      insert into task_results as r (id, name, queue, status, payload, attempts, attempt_base, created_at, started_at)
      select id, name, queue, 'STARTED', payload, 1, 0, "createdAt", now() from input
      on conflict (id) do update set
        status = 'STARTED',
        attempts = r.attempts + 1,
        attempt_base = case when r.status = 'FAILURE' then r.attempts else r.attempt_base end,
        started_at = now(),
        date_done = null
      where r.status in ('PENDING', 'RETRY', 'FAILURE')
         or (r.status = 'STARTED' and r.started_at < now() - ${leaseSeconds}::int * interval '1 second')
      returning r.id, r.attempts, r.attempt_base
    ),
    revoked as (
      -- A task revoked before pick-up was recorded by id alone: keep what it was.
      update task_results r set name = i.name, queue = i.queue, payload = i.payload, created_at = i."createdAt"
      from input i where r.id = i.id and r.status = 'REVOKED' and r.name = ''
    ),
    attempt as (
      insert into task_attempts (task_id, attempt, status, started_at)
      select id, attempts, 'STARTED', now() from claimed
      on conflict (task_id, attempt) do update set status = 'STARTED', started_at = now(), finished_at = null, error = null
    )
    select i.id, c.attempts, c.attempt_base, p.status as prior_status
    from input i
    left join claimed c on c.id = i.id
    left join prior p on p.id = i.id`);
  return rows.map((row) => ({
    id: row.id,
    attempts: row.attempts === null ? null : Number(row.attempts),
    attemptBase: row.attempt_base === null ? null : Number(row.attempt_base),
    priorStatus: row.prior_status,
  }));
}

/** The end of one attempt, or the record of a message that never started. */
export interface TaskOutcomeRow {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly status: Extract<TaskStatus, 'SUCCESS' | 'RETRY' | 'FAILURE' | 'REVOKED'>;
  readonly result?: unknown;
  readonly error?: string;
  readonly traceback?: string;
  readonly runtimeMs?: number;
  /** The claim's `attempts`: the write applies only while this attempt still holds the task. */
  readonly fence?: number;
  /** For messages that never started (rejected at pick-up). */
  readonly payload?: unknown;
  readonly createdAt?: string;
}

/**
 * Records a batch's outcomes, and closes their attempt rows, in one statement. Claimed tasks are fenced by their attempt
 * number, so a late write from an attempt that lost its lease changes nothing; rejected
 * messages are upserted without overwriting a task that succeeded or is running.
 * Returns the ids whose fenced write did not apply.
 */
export async function finishTasks(database: Database, outcomes: readonly TaskOutcomeRow[]): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  const input = JSON.stringify(
    outcomes.map((o) => ({
      ...o,
      result: o.result === undefined ? null : o.result,
      payload: o.payload === undefined ? null : storablePayload(o.payload),
      error: o.error === undefined ? null : clip(o.error, maxErrorLength),
      traceback: o.traceback === undefined ? null : clip(o.traceback, maxTracebackLength),
    })),
  );
  const rows = await database.rows<{ id: string }>(sql`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb)
        as x(id text, name text, queue text, status text, result jsonb, error text, traceback text,
             "runtimeMs" int, fence int, payload jsonb, "createdAt" timestamptz)
    ),
    finished as (
      update task_results r set
        status = i.status,
        result = i.result,
        error = i.error,
        traceback = i.traceback,
        runtime_ms = i."runtimeMs",
        date_done = case when i.status = 'RETRY' then null else now() end
      from input i
      where i.fence is not null and r.id = i.id and r.attempts = i.fence and r.status = 'STARTED'
      returning r.id, r.attempts
    ),
    attempt as (
      update task_attempts a set status = i.status, error = i.error, runtime_ms = i."runtimeMs", finished_at = now()
      from finished f join input i on i.id = f.id
      where a.task_id = f.id and a.attempt = f.attempts
    ),
    rejected as (
      insert into task_results as r (id, name, queue, status, payload, error, traceback, attempts, created_at, date_done)
      select id, name, queue, status, payload, error, traceback, 0, coalesce("createdAt", now()), now()
      from input where fence is null
      on conflict (id) do update set
        status = excluded.status, error = excluded.error, traceback = excluded.traceback, date_done = excluded.date_done
      where r.status not in ('SUCCESS', 'STARTED')
      returning r.id
    )
    select i.id from input i
    where i.fence is not null and i.id not in (select id from finished)`);
  return new Set(rows.map((row) => row.id));
}

/** Rows stay well inside the Data API's 64 KB per row when read back. */
const maxErrorLength = 4_000;
const maxTracebackLength = 16_000;

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** Above this a payload is summarised in the row; the message itself still carries it. */
const maxStoredPayloadBytes = 64 * 1024;

function storablePayload(payload: unknown): unknown {
  const text = JSON.stringify(payload ?? null);
  return text.length > maxStoredPayloadBytes ? { truncated: true, bytes: Buffer.byteLength(text) } : payload;
}
