import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

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
    /** Runs started, over the task's whole life (redrives included). */
    attempts: integer('attempts').notNull().default(0),
    /** `attempts` when the current run began: a redrive from the DLQ grants a fresh retry budget. */
    attemptBase: integer('attempt_base').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'string' }),
    dateDone: timestamp('date_done', { withTimezone: true, mode: 'string' }),
    runtimeMs: integer('runtime_ms'),
  },
  (table) => [
    index('task_results_date_done_idx').on(table.dateDone),
    index('task_results_status_idx').on(table.status),
    index('task_results_name_created_idx').on(table.name, table.createdAt),
    index('task_results_created_idx').on(table.createdAt),
    check(
      'task_results_status_check',
      sql`${table.status} in ('PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED')`,
    ),
  ],
);

/** Every attempt of a task and its timing: Flower's task detail, kept. */
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
