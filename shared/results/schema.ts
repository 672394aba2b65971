import { sql } from 'drizzle-orm';
import { check, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Celery's task states, kept as text with a check (drizzle sends enums uncast over the Data API). */
export const taskStatuses = ['PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'] as const;
export type TaskStatus = (typeof taskStatuses)[number];

/** Celery's `celery_taskmeta`, one row per task id. */
export const taskResults = pgTable(
  'task_results',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    queue: text('queue').notNull(),
    status: text('status').$type<TaskStatus>().notNull(),
    payload: jsonb('payload'),
    result: jsonb('result'),
    error: text('error'),
    traceback: text('traceback'),
    /**
     * Where the full result, error and traceback are kept when they do not fit in a row
     * (a key in the results bucket); the row then holds the error's and traceback's start.
     */
    overflowKey: text('overflow_key'),
    /** Runs started, over the task's whole life (redrives included). */
    attempts: integer('attempts').notNull().default(0),
    /** `attempts` when the current run began: a redrive from the DLQ grants a fresh retry budget. */
    attemptBase: integer('attempt_base').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'string' }),
    dateDone: timestamp('date_done', { withTimezone: true, mode: 'string' }),
    runtimeMs: integer('runtime_ms'),
    /** The group (or chord header) this task belongs to, and its place in the group's result list. */
    groupId: text('group_id'),
    groupIndex: integer('group_index'),
    /**
     * The consumer invocation that claimed the latest attempt (`<function>:<request id>`,
     * Celery's `worker`): written by the claim itself, so `inspect active` can say who holds
     * a task, and kept afterwards to find the attempt's logs.
     */
    worker: text('worker'),
    /**
     * Until when that claim holds (the queue's consumer timeout from its start): no other
     * consumer takes the task over before, and `inspect active` shows it as the lease.
     */
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'string' }),
    /** Whom the task runs for (the envelope's `tenant`, else the catalogue's tenant field of its payload), so lists and bulk actions can pick one tenant's tasks. */
    tenant: text('tenant'),
  },
  (table) => [
    // Every index here costs two writes per task (insert, then the finish's update), so the
    // group index holds group members only, and the status index only the rarer states a
    // list asks for (failures, retries, revocations), newest first.
    index('task_results_group_idx').on(table.groupId, table.groupIndex).where(sql`${table.groupId} is not null`),
    index('task_results_date_done_idx').on(table.dateDone),
    index('task_results_status_created_idx')
      .on(table.status, table.createdAt)
      .where(sql`${table.status} in ('PENDING', 'RETRY', 'FAILURE', 'REVOKED')`),
    index('task_results_name_created_idx').on(table.name, table.createdAt),
    index('task_results_created_idx').on(table.createdAt),
    // Only tasks that run for someone pay for it.
    index('task_results_tenant_created_idx').on(table.tenant, table.createdAt).where(sql`${table.tenant} is not null`),
    check(
      'task_results_status_check',
      sql`${table.status} in ('PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED')`,
    ),
  ],
);

/**
 * The attempts of a task and their timing (Flower's task detail, kept). A task's latest
 * attempt is in its task_results row; a row here is written when an attempt ends, except
 * for a success at the first attempt, which the task_results row already tells in full.
 */
export const taskAttempts = pgTable(
  'task_attempts',
  {
    taskId: text('task_id').notNull().references(() => taskResults.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    status: text('status').$type<TaskStatus>().notNull(),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'string' }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'string' }),
    runtimeMs: integer('runtime_ms'),
  },
  (table) => [primaryKey({ columns: [table.taskId, table.attempt] })],
);

/**
 * A chord's counter: members that have succeeded. Each member's move to SUCCESS happens
 * once (the write is fenced by its attempt), and it adds one here in the same statement,
 * so exactly one member sees the count reach `size` and sends the callback.
 */
export const chordCounters = pgTable('chord_counters', {
  groupId: text('group_id').primaryKey(),
  size: integer('size').notNull(),
  succeeded: integer('succeeded').notNull().default(0),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  completedAt: timestamp('completed_at', { withTimezone: true, mode: 'string' }),
});

/** Token buckets of the tasks with a rate limit, shared by every consumer (Celery's `rate_limit`, made global). */
export const rateLimitBuckets = pgTable('rate_limit_buckets', {
  task: text('task').primaryKey(),
  /** The limit as last applied; a changed catalogue takes effect at the next take. */
  perSecond: doublePrecision('per_second').notNull(),
  burst: doublePrecision('burst').notNull(),
  tokens: doublePrecision('tokens').notNull(),
  refilledAt: timestamp('refilled_at', { withTimezone: true, mode: 'string' }).notNull(),
  /** Tokens the last statement granted, so it can return them. */
  granted: integer('granted').notNull().default(0),
});

/**
 * Run-time changes to a task's policy (`taskq control rate-limit|time-limit`), one row per
 * task; a null keeps the catalogue's value, and `control reset` deletes the row. Consumers
 * read the table at most once every few seconds per process (`runtime/batch/policies.ts`).
 */
export const taskPolicies = pgTable(
  'task_policies',
  {
    task: text('task').primaryKey(),
    /** Celery's rate syntax, normalised (`10/m`); `0` lifts the catalogue's limit. */
    rateLimit: text('rate_limit'),
    softTimeLimitSeconds: doublePrecision('soft_time_limit_seconds'),
    timeLimitSeconds: doublePrecision('time_limit_seconds'),
    /** Tasks at once per key; `0` lifts the catalogue's limit. */
    concurrencyLimit: integer('concurrency_limit'),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (table) => [
    check('task_policies_concurrency_limit_check', sql`${table.concurrencyLimit} between 0 and 1000`),
    check(
      'task_policies_time_limits_check',
      sql`(${table.softTimeLimitSeconds} is null and ${table.timeLimitSeconds} is null) or (0 < ${table.softTimeLimitSeconds} and ${table.softTimeLimitSeconds} < ${table.timeLimitSeconds})`,
    ),
  ],
);

/**
 * The running slots of concurrency-limited tasks (`concurrency` in the catalogue): a row per
 * slot taken, `(key, slot)` with slot below the limit, held by one task id until its outcome
 * is recorded or its lease runs out. `key` is the task's name, and the key's value after a
 * colon when the limit is per key. Rows come and go with the tasks, so the table stays small.
 */
export const concurrencySlots = pgTable(
  'concurrency_slots',
  {
    key: text('key').notNull(),
    slot: integer('slot').notNull(),
    holder: text('holder').notNull(),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'string' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.key, table.slot] }), index('concurrency_slots_holder_idx').on(table.holder)],
);

/**
 * The keys of unique and debounced tasks (`unique`, `debounce` in the catalogue): which task
 * holds each key. For `unique` the first send of the window holds it until `expires_at`;
 * for `debounce` the latest send (`sent_at`, its envelope's `createdAt`) does.
 */
export const taskKeys = pgTable('task_keys', {
  key: text('key').primaryKey(),
  taskId: text('task_id').notNull(),
  sentAt: timestamp('sent_at', { withTimezone: true, mode: 'string' }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'string' }).notNull(),
});
