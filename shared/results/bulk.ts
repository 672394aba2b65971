import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './database.ts';
import { filterConditions, whereAll, type HistoryFilter } from './filter.ts';
import type { TaskStatus } from './schema.ts';

/** What can be done to every task a filter matches (Celery's `revoke` and `purge`, BullMQ's `retryJobs` and `clean`, made general). */
export const bulkActions = ['retry', 'revoke', 'purge'] as const;
export type BulkAction = (typeof bulkActions)[number];

/**
 * The states each action takes. Only a FAILURE is sent again: the claim treats REVOKED as final,
 * so a revoked task sent again would be acknowledged without running.
 */
export const actionStatuses: Readonly<Record<BulkAction, readonly TaskStatus[]>> = {
  retry: ['FAILURE'],
  revoke: ['PENDING', 'STARTED', 'RETRY'],
  purge: ['SUCCESS', 'FAILURE', 'REVOKED'],
};

/** The states an action takes under a filter's `status`: none when the filter asks for one the action never touches. */
export function statusesOf(action: BulkAction, status: TaskStatus | undefined): readonly TaskStatus[] {
  const taken = actionStatuses[action];
  return status === undefined ? taken : taken.filter((s) => s === status);
}

/** Where a page ends: the keyset (created_at, id) of its last row, with created_at to the microsecond. */
export interface PageCursor {
  readonly createdAt: string;
  readonly id: string;
}

/** A task a dry run shows as an example of what the action would take. */
export interface BulkExample {
  readonly id: string;
  readonly name: string;
  readonly status: TaskStatus;
  readonly createdAt: string;
}

const exact = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function matching(statuses: readonly TaskStatus[], filter: HistoryFilter, after?: PageCursor): SQL {
  return whereAll([
    sql`status in (${sql.join(statuses.map((s) => sql`${s}`), sql`, `)})`,
    ...filterConditions(filter),
    ...(after ? [sql`(created_at, id) > (${after.createdAt}::timestamptz, ${after.id}::text)`] : []),
  ]);
}

/** How many tasks in `statuses` the filter matches, and the oldest few of them. */
export async function countMatching(database: Database, statuses: readonly TaskStatus[], filter: HistoryFilter, examples: number): Promise<{ count: number; examples: BulkExample[] }> {
  const where = matching(statuses, filter);
  const [counted] = await database.rows<{ count: number }>(sql`select count(*)::int as count from task_results ${where}`);
  const shown = examples === 0 ? [] : await database.rows<BulkExample>(sql`
    select id, name, status, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt"
    from task_results ${where} order by created_at, id limit ${examples}::int`);
  return { count: Number(counted?.count ?? 0), examples: shown };
}

/** How many tasks each action would take under the filter, in one scan (the dashboard's buttons). */
export async function countPerAction(database: Database, filter: HistoryFilter): Promise<Record<BulkAction, number>> {
  const within = (action: BulkAction) => {
    const statuses = statusesOf(action, filter.status);
    return statuses.length === 0 ? sql`false` : sql`status in (${sql.join(statuses.map((s) => sql`${s}`), sql`, `)})`;
  };
  const [row] = await database.rows<Record<BulkAction, number>>(sql`
    select count(*) filter (where ${within('retry')})::int as retry, count(*) filter (where ${within('revoke')})::int as revoke,
      count(*) filter (where ${within('purge')})::int as purge
    from task_results ${whereAll([...(filter.status ? [sql`status = ${filter.status}`] : []), ...filterConditions(filter)])}`);
  return { retry: Number(row?.retry ?? 0), revoke: Number(row?.revoke ?? 0), purge: Number(row?.purge ?? 0) };
}

/** A FAILURE as a retry needs it: what to send again, and the failure's time, which fences the mark. */
export interface FailedTask {
  readonly id: string;
  readonly name: string;
  readonly payload: string | null;
  readonly tenant: string | null;
  readonly doneAt: string | null;
  readonly cursorAt: string;
}

/** A page's budget, inside the Data API's 1 MiB per response: stored payloads are at most 32 KiB each. */
const pageBytes = 768 * 1024;

/** The next page of failures the filter matches, oldest first, up to `limit` rows and `pageBytes`. */
export async function failedPage(database: Database, filter: HistoryFilter, after: PageCursor | undefined, limit: number): Promise<FailedTask[]> {
  return database.rows<FailedTask>(sql`
    select id, name, payload, tenant, "doneAt", "cursorAt" from (
      select page.*, row_number() over w as n, sum(octet_length(coalesce(payload, '')) + 400) over w as bytes
      from (
        select id, name, payload::text as payload, tenant, ${exact(sql`date_done`)} as "doneAt", ${exact(sql`created_at`)} as "cursorAt", created_at
        from task_results ${matching(['FAILURE'], filter, after)} order by created_at, id limit ${limit}::int
      ) page
      window w as (order by created_at, id rows unbounded preceding)
    ) sized
    where bytes <= ${pageBytes}::int or n = 1
    order by created_at, id`);
}

/**
 * Marks failures sent again as PENDING, with a fresh retry budget, so a second run does not
 * send them once more. Only a row still the FAILURE that was sent is marked: one a consumer
 * has claimed since (or failed again) is left as the consumer made it.
 */
export async function markRetried(database: Database, sent: readonly Pick<FailedTask, 'id' | 'doneAt'>[]): Promise<string[]> {
  if (sent.length === 0) return [];
  const rows = await database.rows<{ id: string }>(sql`
    update task_results r set status = 'PENDING', attempt_base = r.attempts, date_done = null
    from jsonb_to_recordset(${JSON.stringify(sent)}::jsonb) as x(id text, "doneAt" timestamptz)
    where r.id = x.id and r.status = 'FAILURE' and r.date_done is not distinct from x."doneAt"
    returning r.id`);
  return rows.map((row) => row.id);
}

/** One page of an action done in one statement: the rows looked at, and which of them it changed. */
export interface ActedPage {
  readonly ids: readonly string[];
  readonly acted: readonly string[];
  /** Objects in the results bucket of the rows a purge deleted. */
  readonly overflowKeys: readonly string[];
  readonly next: PageCursor | undefined;
}

/** Revokes the next page of unfinished tasks the filter matches; a task that finished meanwhile stays as it is. */
export function revokePage(database: Database, statuses: readonly TaskStatus[], filter: HistoryFilter, after: PageCursor | undefined, limit: number, reason: string): Promise<ActedPage> {
  return actOnPage(database, statuses, filter, after, limit, sql`
    update task_results r set status = 'REVOKED', error = ${reason}, date_done = now()
    from page p where r.id = p.id and r.status not in ('SUCCESS', 'FAILURE', 'REVOKED')
    returning r.id, null::text as overflow_key`);
}

/** Deletes the next page of finished tasks the filter matches, their attempts with them; a task that is running again meanwhile stays. */
export function purgePage(database: Database, statuses: readonly TaskStatus[], filter: HistoryFilter, after: PageCursor | undefined, limit: number): Promise<ActedPage> {
  return actOnPage(database, statuses, filter, after, limit, sql`
    delete from task_results r using page p where r.id = p.id and r.status in ('SUCCESS', 'FAILURE', 'REVOKED')
    returning r.id, r.overflow_key`);
}

/** Selects a page and acts on it in one statement; the action re-checks each row's state under its row lock. */
async function actOnPage(database: Database, statuses: readonly TaskStatus[], filter: HistoryFilter, after: PageCursor | undefined, limit: number, action: SQL): Promise<ActedPage> {
  const rows = await database.rows<{ id: string; cursorAt: string; acted: boolean; overflowKey: string | null }>(sql`
    with page as (
      select id, created_at from task_results ${matching(statuses, filter, after)} order by created_at, id limit ${limit}::int
    ),
    acted as (${action})
    select p.id, ${exact(sql`p.created_at`)} as "cursorAt", a.id is not null as acted, a.overflow_key as "overflowKey"
    from page p left join acted a on a.id = p.id
    order by p.created_at, p.id`);
  const last = rows.at(-1);
  return {
    ids: rows.map((row) => row.id),
    acted: rows.filter((row) => row.acted === true).map((row) => row.id),
    overflowKeys: rows.flatMap((row) => (row.overflowKey ? [row.overflowKey] : [])),
    next: last ? { createdAt: last.cursorAt, id: last.id } : undefined,
  };
}
