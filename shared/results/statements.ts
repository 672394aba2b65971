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
  /** Membership of a group, recorded so the group's results can be read in order. */
  readonly groupId?: string;
  readonly groupIndex?: number;
  /** Return the result when the task already succeeded: a workflow's next step is sent again. */
  readonly wantsResult?: boolean;
}

export interface ClaimResult {
  readonly id: string;
  /** Set when this consumer won the task: attempts over its life, and the base of the current run. */
  readonly attempts: number | null;
  readonly attemptBase: number | null;
  /** The row's status before the claim, when it existed. */
  readonly priorStatus: TaskStatus | null;
  /** The stored result of a task that already succeeded, when the request wanted it. */
  readonly priorResult: unknown;
}

/**
 * Claims a batch of tasks in one statement. A task is claimed unless it already ended
 * (SUCCESS, REVOKED) or another consumer holds it (STARTED within the lease). A FAILURE
 * claimed again is a redrive from the dead-letter queue: its retry budget starts afresh.
 * The running attempt lives in the task's row; an attempt whose lease ran out gets a row
 * of its own in task_attempts when the task is claimed again.
 *
 * Every table access goes by primary key, whatever the planner believes of the input's
 * size or the table's statistics: this runs for every batch, on tables of any size.
 */
export async function claimTasks(
  database: Database,
  requests: readonly ClaimRequest[],
  leaseSeconds: number,
): Promise<ClaimResult[]> {
  if (requests.length === 0) return [];
  const input = JSON.stringify(requests.map((r) => ({ ...r, payload: storablePayload(r.payload) })));
  const rows = await database.rows<{ id: string; attempts: number | null; attempt_base: number | null; prior_status: TaskStatus | null; prior_result: string | null }>(sql`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb)
        as x(id text, name text, queue text, payload jsonb, "createdAt" timestamptz, "groupId" text, "groupIndex" int, "wantsResult" boolean)
    ),
    upserted as (
      insert into task_results as r (id, name, queue, status, payload, attempts, attempt_base, created_at, started_at, group_id, group_index)
      select id, name, queue, 'STARTED', payload, 1, 0, "createdAt", now(), "groupId", "groupIndex" from input
      on conflict (id) do update set
        status = case when r.status = 'REVOKED' then r.status else 'STARTED' end,
        attempts = case when r.status = 'REVOKED' then r.attempts else r.attempts + 1 end,
        attempt_base = case when r.status = 'FAILURE' then r.attempts else r.attempt_base end,
        started_at = case when r.status = 'REVOKED' then r.started_at else now() end,
        date_done = case when r.status = 'REVOKED' then r.date_done end,
        -- A task revoked before pick-up was recorded by id alone: keep what it was.
        name = case when r.name = '' then excluded.name else r.name end,
        queue = case when r.name = '' then excluded.queue else r.queue end,
        payload = case when r.name = '' then excluded.payload else r.payload end,
        created_at = case when r.name = '' then excluded.created_at else r.created_at end,
        group_id = coalesce(r.group_id, excluded.group_id),
        group_index = coalesce(r.group_index, excluded.group_index)
      where r.status in ('PENDING', 'RETRY', 'FAILURE')
         or (r.status = 'STARTED' and r.started_at < now() - ${leaseSeconds}::int * interval '1 second')
         or (r.status = 'REVOKED' and r.name = '')
      returning r.id, r.status, r.attempts, r.attempt_base
    ),
    claimed as (select id, attempts, attempt_base from upserted where status = 'STARTED'),
    prior as (
      -- Each row as it was before this statement (its snapshot), found by its key (offset 0 keeps
      -- the lookup per row): the planner guesses 100 input rows and would otherwise scan the table.
      select i.id, p.status, p.attempts, p.started_at, case when i."wantsResult" and p.status = 'SUCCESS' then p.result end as result
      from input i left join lateral (
        select r.status, r.attempts, r.started_at, r.result from task_results r where r.id = i.id offset 0
      ) p on true
    ),
    lost as (
      -- An attempt whose lease ran out ended without recording an outcome (a crash, a timeout,
      -- an outage): its row stays as it began, STARTED and never finished.
      insert into task_attempts (task_id, attempt, status, started_at)
      select p.id, p.attempts, 'STARTED', p.started_at
      from claimed c join prior p on p.id = c.id
      where p.status = 'STARTED'
      on conflict (task_id, attempt) do nothing
    )
    select p.id, c.attempts, c.attempt_base, p.status as prior_status, p.result::text as prior_result
    from prior p left join claimed c on c.id = p.id`, 'claim_tasks');
  return rows.map((row) => ({
    id: row.id,
    attempts: row.attempts === null ? null : Number(row.attempts),
    attemptBase: row.attempt_base === null ? null : Number(row.attempt_base),
    priorStatus: row.prior_status,
    priorResult: row.prior_result === null ? undefined : JSON.parse(row.prior_result),
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
  /** A chord member: its SUCCESS counts towards the chord's callback. */
  readonly chord?: { readonly groupId: string; readonly size: number };
}

export interface FinishResult {
  /** Fenced writes that did not apply, with the status the task has instead. */
  readonly superseded: ReadonlyMap<string, TaskStatus>;
  /** Chords whose last member succeeded in this statement: their callbacks are due, once. */
  readonly completedChords: ReadonlySet<string>;
}

/**
 * Records a batch's outcomes, their attempts and chord members' successes, in one
 * statement. Claimed tasks are fenced by their attempt number, so a late write from an
 * attempt that lost its lease changes nothing; rejected messages are upserted without
 * overwriting a task that succeeded or is running.
 */
export async function finishTasks(database: Database, outcomes: readonly TaskOutcomeRow[]): Promise<FinishResult> {
  if (outcomes.length === 0) return { superseded: new Map(), completedChords: new Set() };
  const input = JSON.stringify(
    outcomes.map((o) => ({
      ...o,
      result: o.result === undefined ? null : o.result,
      payload: o.payload === undefined ? null : storablePayload(o.payload),
      error: o.error === undefined ? null : clip(o.error, maxErrorLength),
      traceback: o.traceback === undefined ? null : clip(o.traceback, maxTracebackLength),
      chordId: o.chord?.groupId ?? null,
      chordSize: o.chord?.size ?? null,
      chord: undefined,
    })),
  );
  const rows = await database.rows<{ kind: 'superseded' | 'chord'; id: string; status: TaskStatus | null }>(sql`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb)
        as x(id text, name text, queue text, status text, result jsonb, error text, traceback text,
             "runtimeMs" int, fence int, payload jsonb, "createdAt" timestamptz, "chordId" text, "chordSize" int)
    ),
    held as (
      -- Each row found by its key (offset 0 keeps the lookup per row): the planner guesses 100
      -- input rows and would otherwise join against a scan of the whole table.
      select i.id, t.ctid as row_id
      from input i cross join lateral (
        select r.ctid from task_results r where r.id = i.id and r.attempts = i.fence and r.status = 'STARTED' offset 0
      ) t
      where i.fence is not null
    ),
    finished as (
      -- By row id: a row changed since (revoked, or claimed again after its lease) is skipped, as the fence wants.
      update task_results r set
        status = i.status,
        result = i.result,
        error = i.error,
        traceback = i.traceback,
        runtime_ms = i."runtimeMs",
        date_done = case when i.status = 'RETRY' then null else now() end
      from held h join input i on i.id = h.id
      where r.ctid = h.row_id
      returning r.id, r.attempts, r.started_at
    ),
    attempt as (
      -- A task that succeeded at its first attempt has that attempt in its task_results row alone
      -- (queries.ts reads it from there): most tasks, and half the writes, need no row here.
      insert into task_attempts (task_id, attempt, status, error, started_at, finished_at, runtime_ms)
      select f.id, f.attempts, i.status, i.error, f.started_at, now(), i."runtimeMs"
      from finished f join input i on i.id = f.id
      where i.status <> 'SUCCESS' or f.attempts > 1
      on conflict (task_id, attempt) do update set status = excluded.status, error = excluded.error, finished_at = excluded.finished_at, runtime_ms = excluded.runtime_ms
    ),
    rejected as (
      insert into task_results as r (id, name, queue, status, payload, error, traceback, attempts, created_at, date_done)
      select id, name, queue, status, payload, error, traceback, 0, coalesce("createdAt", now()), now()
      from input where fence is null
      on conflict (id) do update set
        status = excluded.status, error = excluded.error, traceback = excluded.traceback, date_done = excluded.date_done
      where r.status not in ('SUCCESS', 'STARTED')
      returning r.id
    ),
    chord_increments as (
      select i."chordId" as group_id, max(i."chordSize") as size, count(*)::int as added
      from finished f join input i on i.id = f.id
      where i.status = 'SUCCESS' and i."chordId" is not null
      group by i."chordId"
    ),
    chords as (
      -- The row lock serialises concurrent members: exactly one statement sees the count reach the size.
      insert into chord_counters as c (group_id, size, succeeded)
      select group_id, size, added from chord_increments
      on conflict (group_id) do update set succeeded = c.succeeded + excluded.succeeded,
        completed_at = case when c.succeeded + excluded.succeeded >= c.size then coalesce(c.completed_at, now()) end
      returning c.group_id, c.size, c.succeeded
    )
    select 'superseded' as kind, i.id, (select r.status from task_results r where r.id = i.id) as status from input i
    where i.fence is not null and i.id not in (select id from finished)
    union all
    select 'chord', c.group_id, null from chords c join chord_increments n on n.group_id = c.group_id
    where c.succeeded >= c.size and c.succeeded - n.added < c.size`, 'finish_tasks');
  return {
    superseded: new Map(rows.filter((row) => row.kind === 'superseded').map((row) => [row.id, row.status ?? 'PENDING'])),
    completedChords: new Set(rows.filter((row) => row.kind === 'chord').map((row) => row.id)),
  };
}

/** Which of these running tasks have been revoked since they started. */
export async function revokedAmong(database: Database, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await database.rows<{ id: string }>(sql`
    select id from task_results where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)) and status = 'REVOKED'`);
  return rows.map((row) => row.id);
}

/** The results of a group's members, in member order. */
export async function groupResults(database: Database, groupId: string): Promise<{ id: string; status: TaskStatus; result: unknown }[]> {
  const rows = await database.rows<{ id: string; status: TaskStatus; result: string | null }>(sql`
    select id, status, result::text as result from task_results where group_id = ${groupId} order by group_index`);
  return rows.map((row) => ({ id: row.id, status: row.status, result: row.result === null ? null : JSON.parse(row.result) }));
}

/** Whether a chord's every member has succeeded (for re-sending a callback whose first send was lost). */
export async function chordCompleted(database: Database, groupId: string): Promise<boolean> {
  const [row] = await database.rows<{ completed: boolean }>(sql`
    select completed_at is not null as completed from chord_counters where group_id = ${groupId}`);
  return row?.completed ?? false;
}

export interface RateRequest {
  readonly task: string;
  readonly wanted: number;
  readonly perSecond: number;
  readonly burst: number;
}

/**
 * Takes start tokens from each task's bucket, in one statement: refills by the time
 * elapsed, grants what is there (up to what is wanted) and returns the grants. The
 * bucket's row lock makes the limit hold across every consumer.
 */
export async function takeRateTokens(database: Database, requests: readonly RateRequest[]): Promise<Map<string, number>> {
  if (requests.length === 0) return new Map();
  const rows = await database.rows<{ task: string; granted: number }>(sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(requests)}::jsonb)
        as x(task text, wanted int, "perSecond" float8, burst float8)
    )
    insert into rate_limit_buckets as b (task, per_second, burst, tokens, refilled_at, granted)
    select task, "perSecond", burst, burst - least(wanted, floor(burst)), now(), least(wanted, floor(burst)) from input
    on conflict (task) do update set
      per_second = excluded.per_second,
      burst = excluded.burst,
      -- excluded.granted is min(wanted, burst), and what is available never exceeds the burst.
      granted = least(excluded.granted, floor(least(excluded.burst, b.tokens + extract(epoch from now() - b.refilled_at) * excluded.per_second))),
      tokens = least(excluded.burst, b.tokens + extract(epoch from now() - b.refilled_at) * excluded.per_second)
        - least(excluded.granted, floor(least(excluded.burst, b.tokens + extract(epoch from now() - b.refilled_at) * excluded.per_second))),
      refilled_at = now()
    returning b.task, b.granted`);
  return new Map(rows.map((row) => [row.task, Number(row.granted)]));
}

/** Rows stay well inside the Data API's 64 KB per row when read back. */
const maxErrorLength = 4_000;
const maxTracebackLength = 16_000;

function clip(text: string, length: number): string {
  const storable = storableText(text);
  return storable.length > length ? `${storable.slice(0, length - 1)}…` : storable;
}

/** Text PostgreSQL can store: no NUL, no lone UTF-16 surrogate (each becomes U+FFFD). */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').toWellFormed();
}

/**
 * A task's result as JSON PostgreSQL can store in jsonb, strings and keys made storable:
 * one task's odd output must not fail the statement that records its whole batch.
 */
export function storableJson(value: unknown): unknown {
  const text = JSON.stringify(value);
  if (text === undefined) return null;
  // JSON.stringify escapes NUL as \u0000 and a lone surrogate as \udXXX; valid pairs stay as they are.
  if (!/\\u0000|\\ud[89a-f]/i.test(text)) return JSON.parse(text);
  return JSON.parse(text, (_key, item: unknown) => {
    if (typeof item === 'string') return storableText(item);
    if (item && typeof item === 'object' && !Array.isArray(item)) return Object.fromEntries(Object.entries(item).map(([key, inner]) => [storableText(key), inner]));
    return item;
  });
}

/** Above this a payload is summarised in the row; the message itself still carries it. */
const maxStoredPayloadBytes = 64 * 1024;

function storablePayload(payload: unknown): unknown {
  const text = JSON.stringify(payload ?? null);
  return text.length > maxStoredPayloadBytes ? { truncated: true, bytes: Buffer.byteLength(text) } : payload;
}
