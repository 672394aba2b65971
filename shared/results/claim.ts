import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './database.ts';
import type { TaskStatus } from './schema.ts';
import { storablePayload } from './statements.ts';

/** A task about to run: the claim marks it STARTED and counts the attempt. */
export interface ClaimRequest {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly payload: unknown;
  readonly createdAt: string;
  /** Whom it runs for, kept in the row so a tenant's tasks can be listed and acted on together. */
  readonly tenant?: string;
  /** Membership of a group, recorded so the group's results can be read in order. */
  readonly groupId?: string;
  readonly groupIndex?: number;
  /** A concurrency-limited task: it starts only with one of the key's `limit` slots (`concurrency_slots`). */
  readonly concurrency?: { readonly key: string; readonly limit: number };
}

export interface ClaimResult {
  readonly id: string;
  /** Set when this consumer won the task: attempts over its life, and the base of the current run. */
  readonly attempts: number | null;
  readonly attemptBase: number | null;
  /** The row's status before the claim, when it existed. */
  readonly priorStatus: TaskStatus | null;
  /** Not started because every slot of its concurrency key is held: it waits, without spending an attempt. */
  readonly throttled: boolean;
  /** Started holding a slot of its concurrency key, which the record of its outcome gives back. */
  readonly slotted: boolean;
}

/**
 * Claims a batch of tasks in one statement. A task is claimed unless it already ended
 * (SUCCESS, REVOKED) or another consumer holds it (STARTED within the lease). A FAILURE
 * claimed again is a redrive from the dead-letter queue: its retry budget starts afresh.
 * The running attempt lives in the task's row; an attempt whose lease ran out gets a row
 * of its own in task_attempts when the task is claimed again.
 *
 * Every table access goes by primary key, whatever the planner believes of the input's
 * size or the table's statistics: this runs for every batch, on tables of any size. The
 * claiming invocation and the lease's end are written with the claim, so `inspect active`
 * costs the batch nothing, and the lease it shows is the one this statement enforces.
 */
export async function claimTasks(
  database: Database,
  requests: readonly ClaimRequest[],
  leaseSeconds: number,
  /** The consumer invocation claiming them (`<function>:<request id>`), recorded as each task's `worker`. */
  worker: string,
): Promise<ClaimResult[]> {
  if (requests.length === 0) return [];
  const input = JSON.stringify(requests.map(({ concurrency, ...r }, ord) => ({
    ...r, payload: storablePayload(r.payload), ord, ...(concurrency ? { slotKey: concurrency.key, slotLimit: concurrency.limit } : {}),
  })));
  // A batch with concurrency-limited tasks claims with the slot-taking text, prepared under a name of its own.
  const limited = requests.some((r) => r.concurrency);
  const lease = sql`now() + ${leaseSeconds}::int * interval '1 second'`;
  const rows = await database.rows<{ id: string; attempts: number | null; attempt_base: number | null; prior_status: TaskStatus | null; throttled: boolean; slotted: boolean }>(sql`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb)
        as x(id text, name text, queue text, payload jsonb, "createdAt" timestamptz, tenant text, "groupId" text, "groupIndex" int, ord int, "slotKey" text, "slotLimit" int)
    ),
    prior as (
      -- Each row as it was before this statement (its snapshot), found by its key (offset 0 keeps
      -- the lookup per row): the planner guesses 100 input rows and would otherwise scan the table.
      select i.id, p.status, p.attempts, p.started_at
      from input i left join lateral (
        select r.status, r.attempts, r.started_at from task_results r where r.id = i.id offset 0
      ) p on true
    ),
    ${limited ? slotsCtes(lease) : sql`slotted as (select null::text as id where false),`}
    upserted as (
      insert into task_results as r (id, name, queue, status, payload, attempts, attempt_base, created_at, started_at, group_id, group_index, worker, lease_until, tenant)
      select id, name, queue, 'STARTED', payload, 1, 0, "createdAt", now(), "groupId", "groupIndex", ${worker}::text, ${lease}, tenant from input i
      where i."slotKey" is null or i.id in (select id from slotted)
         -- One that cannot start (it ended) needs no slot: the claim tells its consumer so.
         or exists (select 1 from prior p where p.id = i.id and p.status in ('SUCCESS', 'REVOKED'))
      on conflict (id) do update set
        status = case when r.status = 'REVOKED' then r.status else 'STARTED' end,
        attempts = case when r.status = 'REVOKED' then r.attempts else r.attempts + 1 end,
        attempt_base = case when r.status = 'FAILURE' then r.attempts else r.attempt_base end,
        started_at = case when r.status = 'REVOKED' then r.started_at else now() end,
        date_done = case when r.status = 'REVOKED' then r.date_done end,
        worker = case when r.status = 'REVOKED' then r.worker else excluded.worker end,
        lease_until = case when r.status = 'REVOKED' then r.lease_until else excluded.lease_until end,
        -- A task revoked before pick-up was recorded by id alone: keep what it was.
        name = case when r.name = '' then excluded.name else r.name end,
        queue = case when r.name = '' then excluded.queue else r.queue end,
        payload = case when r.name = '' then excluded.payload else r.payload end,
        created_at = case when r.name = '' then excluded.created_at else r.created_at end,
        group_id = coalesce(r.group_id, excluded.group_id),
        group_index = coalesce(r.group_index, excluded.group_index),
        tenant = coalesce(r.tenant, excluded.tenant)
      where r.status in ('PENDING', 'RETRY', 'FAILURE')
         -- A claim from before leases were recorded holds for the lease from its start.
         or (r.status = 'STARTED' and coalesce(r.lease_until, r.started_at + ${leaseSeconds}::int * interval '1 second') < now())
         or (r.status = 'REVOKED' and r.name = '')
      returning r.id, r.status, r.attempts, r.attempt_base
    ),
    claimed as (select id, attempts, attempt_base from upserted where status = 'STARTED'),
    lost as (
      -- An attempt whose lease ran out ended without recording an outcome (a crash, a timeout,
      -- an outage): its row stays as it began, STARTED and never finished.
      insert into task_attempts (task_id, attempt, status, started_at)
      select p.id, p.attempts, 'STARTED', p.started_at
      from claimed c join prior p on p.id = c.id
      where p.status = 'STARTED'
      on conflict (task_id, attempt) do nothing
    )
    select p.id, c.attempts, c.attempt_base, p.status as prior_status,
      (i."slotKey" is not null and i.id not in (select id from slotted) and p.status is distinct from 'SUCCESS' and p.status is distinct from 'REVOKED') as throttled,
      (i.id in (select id from slotted)) as slotted
    from prior p join input i on i.id = p.id left join claimed c on c.id = p.id`, limited ? 'claim_tasks_with_slots' : 'claim_tasks');
  return rows.map((row) => ({
    id: row.id,
    attempts: row.attempts === null ? null : Number(row.attempts),
    attemptBase: row.attempt_base === null ? null : Number(row.attempt_base),
    priorStatus: row.prior_status,
    throttled: row.throttled === true,
    slotted: row.slotted === true,
  }));
}

/**
 * The claim's slot-taking, for a batch with concurrency-limited tasks: `slotted` is the ids
 * that hold a slot of their key now. A task already holding one (its own earlier claim, or a
 * duplicate delivery of it) keeps it; the others take free slots, those the snapshot shows
 * unheld or past their lease, in the batch's order. The insert re-checks each slot against
 * its latest version under the row lock, so a slot a concurrent claim took meanwhile is not
 * taken twice: a task that loses that race waits as if the slots were full.
 */
function slotsCtes(lease: SQL) {
  return sql`
    live as (
      select s.key, s.slot, s.holder from concurrency_slots s
      where s.key in (select "slotKey" from input where "slotKey" is not null) and s.lease_until > now()
    ),
    wanting as (
      select i.id, i."slotKey" as key, i."slotLimit" as lim, row_number() over (partition by i."slotKey" order by i.ord) as n
      from input i
      where i."slotKey" is not null
        and not exists (select 1 from live l where l.key = i."slotKey" and l.holder = i.id)
        and not exists (select 1 from prior p where p.id = i.id and p.status in ('SUCCESS', 'REVOKED'))
    ),
    free as (
      select k.key, g.slot, row_number() over (partition by k.key order by g.slot) as n
      from (select key, max(lim) as lim from wanting group by key) k
      cross join lateral generate_series(0, k.lim - 1) as g(slot)
      where not exists (select 1 from live l where l.key = k.key and l.slot = g.slot)
    ),
    taken as (
      insert into concurrency_slots as s (key, slot, holder, lease_until)
      select w.key, f.slot, w.id, ${lease} from wanting w join free f on f.key = w.key and f.n = w.n
      on conflict (key, slot) do update set holder = excluded.holder, lease_until = excluded.lease_until
        where s.lease_until <= now()
      returning s.holder
    ),
    slotted as (
      select holder as id from taken
      union select l.holder from live l join input i on i.id = l.holder and i."slotKey" = l.key
    ),`;
}
