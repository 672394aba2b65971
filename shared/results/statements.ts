import { sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { storedResult } from './overflow.ts';
import type { TaskStatus } from './schema.ts';

/** Which of these tasks ended for good: succeeded, or revoked. */
export function endedAmong(database: Database, ids: readonly string[]): Promise<string[]> {
  return withStatusAmong(database, ids, ['SUCCESS', 'REVOKED']);
}

/** Which of these running tasks have been revoked since they started. */
export function revokedAmong(database: Database, ids: readonly string[]): Promise<string[]> {
  return withStatusAmong(database, ids, ['REVOKED']);
}

async function withStatusAmong(database: Database, ids: readonly string[], statuses: readonly TaskStatus[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await database.rows<{ id: string }>(sql`
    select id from task_results
    where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))
      and status in (select jsonb_array_elements_text(${JSON.stringify(statuses)}::jsonb))`);
  return rows.map((row) => row.id);
}

export interface MemberResult {
  readonly id: string;
  readonly status: TaskStatus;
  readonly result: unknown;
}

/** Members read per statement, and their results' bytes: a page stays inside the Data API's 1 MiB per response. */
const groupPageRows = 1000;
const groupPageBytes = 512 * 1024;

/** The results of a group's members, in member order, read in pages and from the results bucket where they overflowed. */
export async function groupResults(database: Database, groupId: string): Promise<MemberResult[]> {
  const members: MemberResult[] = [];
  for (let after = -1; ; ) {
    // The running sum is over the rows before each one, so a page always holds at least one member.
    const rows = await database.rows<{ id: string; status: TaskStatus; result: string | null; overflow_key: string | null; group_index: number; remaining: number }>(sql`
      select id, status, result, overflow_key, group_index, remaining from (
        select id, status, result::text as result, overflow_key, group_index, count(*) over () as remaining,
          coalesce(sum(octet_length(result::text) + 200) over (order by group_index rows between unbounded preceding and 1 preceding), 0) as before
        from task_results where group_id = ${groupId} and group_index > ${after}::int
        order by group_index limit ${groupPageRows}::int
      ) page
      where before < ${groupPageBytes}::int
      order by group_index`);
    members.push(...(await Promise.all(rows.map(async (row) => ({ id: row.id, status: row.status, result: await storedResult(database.overflow, row.overflow_key, row.result) })))));
    const last = rows.at(-1);
    if (!last || rows.length >= Number(last.remaining)) return members;
    after = Number(last.group_index);
  }
}

/** A finished task's result, read back from the results bucket where it overflowed; undefined unless it succeeded. */
export async function taskResult(database: Database, id: string): Promise<{ result: unknown } | undefined> {
  const [row] = await database.rows<{ result: string | null; overflow_key: string | null }>(sql`
    select result::text as result, overflow_key from task_results where id = ${id} and status = 'SUCCESS'`);
  if (!row) return undefined;
  return { result: await storedResult(database.overflow, row.overflow_key, row.result) };
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
      -- now() is when the transaction began, which may be before a concurrent take that got the
      -- row first: time never runs backwards here, so no take refills (or grants) what is not there.
      -- excluded.granted is min(wanted, burst), and what is available never exceeds the burst.
      granted = least(excluded.granted, floor(least(excluded.burst, b.tokens + extract(epoch from greatest(now() - b.refilled_at, interval '0')) * excluded.per_second))),
      tokens = least(excluded.burst, b.tokens + extract(epoch from greatest(now() - b.refilled_at, interval '0')) * excluded.per_second)
        - least(excluded.granted, floor(least(excluded.burst, b.tokens + extract(epoch from greatest(now() - b.refilled_at, interval '0')) * excluded.per_second))),
      refilled_at = greatest(b.refilled_at, now())
    returning b.task, b.granted`);
  return new Map(rows.map((row) => [row.task, Number(row.granted)]));
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

/**
 * Above this a payload is summarised in the row (the message itself still carries it): with
 * jsonb's spacing and the Data API's quoting, a task page's payload row stays under 64 KB.
 */
const maxStoredPayloadBytes = 32 * 1024;

export function storablePayload(payload: unknown): unknown {
  const text = JSON.stringify(payload ?? null);
  const bytes = Buffer.byteLength(text);
  return bytes > maxStoredPayloadBytes ? { truncated: true, bytes } : payload;
}
