import { sql } from 'drizzle-orm';
import { chunksBySize } from '../chunks.ts';
import { describeRefusal, isPermanentRefusal } from '../errors.ts';
import { redactSecrets } from '../secrets.ts';
import type { Database } from './database.ts';
import { clipBytes, inlineBytes, type OverflowStore, type OverflowValues } from './overflow.ts';
import type { TaskStatus } from './schema.ts';
import { storablePayload, storableText } from './statements.ts';

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
  /** Whom a message that never started ran for, as the claim would have kept it. */
  readonly tenant?: string;
  /** A chord member: its SUCCESS counts towards the chord's callback. */
  readonly chord?: { readonly groupId: string; readonly size: number };
  /** It held a concurrency slot: the write gives it back. */
  readonly releasesSlot?: boolean;
}

export interface FinishResult {
  /** Fenced writes that did not apply, with the status the task has instead. */
  readonly superseded: ReadonlyMap<string, TaskStatus>;
  /** Chords whose last member succeeded in this statement: their callbacks are due, once. */
  readonly completedChords: ReadonlySet<string>;
  /** Outcomes the store refused for good, recorded as the task's failure instead, with the reason. */
  readonly refused: ReadonlyMap<string, string>;
}

export interface FinishOptions {
  /** Runs each statement, retrying what a passing outage refuses. @default once */
  readonly retry?: <T>(write: () => Promise<T>) => Promise<T>;
}

/**
 * Records a batch's outcomes. Values too large for a row go to the results bucket first;
 * the rows are then written in statements of at most `statementBytes`. A statement the
 * store refuses for what it holds is split until the refused outcome stands alone, and
 * that outcome is recorded as its task's failure with the store's reason: nothing is lost,
 * and no task runs again because its outcome could not be written.
 */
export async function finishTasks(database: Database, outcomes: readonly TaskOutcomeRow[], options: FinishOptions = {}): Promise<FinishResult> {
  const retry = options.retry ?? ((write) => write());
  const refused = new Map<string, string>();
  const records = await Promise.all(outcomes.map(async (outcome) => {
    const prepared = await storableRecord(database.overflow, outcome);
    if (prepared.refusal) refused.set(outcome.id, prepared.refusal);
    return prepared.record;
  }));
  const superseded = new Map<string, TaskStatus>();
  const completedChords = new Set<string>();
  const write = async (chunk: readonly OutcomeRecord[], lastResort = false): Promise<void> => {
    try {
      const result = await retry(() => finishStatement(database, chunk));
      for (const [id, status] of result.superseded) superseded.set(id, status);
      for (const groupId of result.completedChords) completedChords.add(groupId);
    } catch (error) {
      if (lastResort || !isPermanentRefusal(error)) throw error;
      if (chunk.length > 1) {
        const half = Math.ceil(chunk.length / 2);
        await write(chunk.slice(0, half));
        await write(chunk.slice(half));
        return;
      }
      const reason = `its outcome could not be recorded: ${describeRefusal(error)}`;
      refused.set(chunk[0]!.id, reason);
      await write([refusedRecord(chunk[0]!, reason)], true);
    }
  };
  for (const chunk of chunksBySize(records, { maxBytes: statementBytes, size: quotedBytes })) await write(chunk);
  return { superseded, completedChords, refused };
}

/**
 * Input bytes per statement. The Data API refuses requests over 4 MiB and quotes the JSON
 * parameter once more; 1 MiB also keeps each statement's work short.
 */
const statementBytes = 1024 * 1024;

/** An outcome as the statement's JSON input carries it. */
interface OutcomeRecord {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly status: TaskOutcomeRow['status'];
  readonly result: unknown;
  readonly error: string | null;
  readonly traceback: string | null;
  readonly overflowKey: string | null;
  readonly runtimeMs: number | null;
  readonly fence: number | null;
  readonly payload: unknown;
  readonly createdAt: string | null;
  readonly tenant: string | null;
  readonly chordId: string | null;
  readonly chordSize: number | null;
  readonly releasesSlot?: true;
}

/**
 * The row of an outcome, its values clipped to what a row holds and kept whole in the
 * results bucket when they are not. A value the bucket cannot hold, or a result too large
 * with no bucket configured, makes the outcome the task's failure.
 */
async function storableRecord(store: OverflowStore | undefined, outcome: TaskOutcomeRow): Promise<{ record: OutcomeRecord; refusal?: string }> {
  const error = outcome.error === undefined ? null : storableText(redactSecrets(outcome.error));
  const traceback = outcome.traceback === undefined ? null : storableText(redactSecrets(outcome.traceback));
  const resultText = outcome.result === undefined ? undefined : JSON.stringify(outcome.result);
  const overflow: { -readonly [K in keyof OverflowValues]: OverflowValues[K] } = {};
  if (resultText !== undefined && Buffer.byteLength(resultText) > inlineBytes.result) overflow.result = outcome.result;
  if (error !== null && Buffer.byteLength(error) > inlineBytes.error) overflow.error = error;
  if (traceback !== null && Buffer.byteLength(traceback) > inlineBytes.traceback) overflow.traceback = traceback;
  const record: OutcomeRecord = {
    id: outcome.id,
    name: outcome.name,
    queue: outcome.queue,
    status: outcome.status,
    result: outcome.result === undefined || 'result' in overflow ? null : outcome.result,
    error: error === null ? null : clipBytes(error, inlineBytes.error),
    traceback: traceback === null ? null : clipBytes(traceback, inlineBytes.traceback),
    overflowKey: null,
    runtimeMs: outcome.runtimeMs ?? null,
    fence: outcome.fence ?? null,
    payload: outcome.payload === undefined ? null : storablePayload(outcome.payload),
    createdAt: outcome.createdAt ?? null,
    tenant: outcome.tenant ?? null,
    chordId: outcome.chord?.groupId ?? null,
    chordSize: outcome.chord?.size ?? null,
    ...(outcome.releasesSlot ? { releasesSlot: true as const } : {}),
  };
  if (Object.keys(overflow).length === 0) return { record };
  if (!store) {
    if (!('result' in overflow)) return { record };
    const reason = `ResultTooLarge: the result is ${Buffer.byteLength(resultText!)} bytes, over the ${inlineBytes.result} a row holds, and no results bucket is configured (RESULTS_BUCKET)`;
    return { record: refusedRecord(record, reason), refusal: reason };
  }
  try {
    return { record: { ...record, overflowKey: await store.put(outcome.id, outcome.fence, overflow) } };
  } catch (thrown) {
    if (!isPermanentRefusal(thrown)) throw thrown;
    const reason = `its outcome could not be kept in the results bucket: ${describeRefusal(thrown)}`;
    return { record: refusedRecord(record, reason), refusal: reason };
  }
}

/** An outcome turned into its task's failure: the reason, without the values that could not be kept. */
function refusedRecord(record: OutcomeRecord, reason: string): OutcomeRecord {
  return { ...record, status: 'FAILURE', result: null, error: clipBytes(reason, inlineBytes.error), traceback: null, overflowKey: null, payload: null, createdAt: null, chordId: null, chordSize: null };
}

/**
 * A record's bytes as the request carries it, bounded from above without serialising it twice:
 * quoting JSON again only doubles its quotes and backslashes (its control characters are escaped already).
 */
function quotedBytes(record: OutcomeRecord): number {
  return 2 * Buffer.byteLength(JSON.stringify(record)) + 2;
}

/**
 * Records outcomes, their attempts and chord members' successes, in one statement.
 * Claimed tasks are fenced by their attempt number, so a late write from an attempt that
 * lost its lease changes nothing; rejected messages are upserted without overwriting a
 * task that succeeded or is running.
 */
async function finishStatement(database: Database, records: readonly OutcomeRecord[]): Promise<Omit<FinishResult, 'refused'>> {
  const input = JSON.stringify(records);
  // Only a batch whose tasks hold concurrency slots gives any back: the others' statement stays as it was.
  // Each text is prepared under a name of its own.
  const releasing = records.some((record) => record.releasesSlot);
  const releases = releasing
    ? sql`released as (
      -- Its attempt's write applied: the slot is free for the key's next task. A superseded write keeps it for the attempt that took over.
      delete from concurrency_slots s using finished f where s.holder = f.id
    ),`
    : sql``;
  const rows = await database.rows<{ kind: 'superseded' | 'chord'; id: string; status: TaskStatus | null }>(sql`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb)
        as x(id text, name text, queue text, status text, result jsonb, error text, traceback text, "overflowKey" text,
             "runtimeMs" int, fence int, payload jsonb, "createdAt" timestamptz, tenant text, "chordId" text, "chordSize" int)
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
        overflow_key = i."overflowKey",
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
    ${releases}
    rejected as (
      insert into task_results as r (id, name, queue, status, payload, error, traceback, overflow_key, attempts, created_at, date_done, tenant)
      select id, name, queue, status, payload, error, traceback, "overflowKey", 0, coalesce("createdAt", now()), now(), tenant
      from input where fence is null
      on conflict (id) do update set
        status = excluded.status, error = excluded.error, traceback = excluded.traceback, overflow_key = excluded.overflow_key, date_done = excluded.date_done,
        tenant = coalesce(r.tenant, excluded.tenant)
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
    where c.succeeded >= c.size and c.succeeded - n.added < c.size`, releasing ? 'finish_tasks_releasing_slots' : 'finish_tasks');
  return {
    superseded: new Map(rows.filter((row) => row.kind === 'superseded').map((row) => [row.id, row.status ?? 'PENDING'])),
    completedChords: new Set(rows.filter((row) => row.kind === 'chord').map((row) => row.id)),
  };
}
