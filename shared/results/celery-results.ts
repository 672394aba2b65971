import { sql } from 'drizzle-orm';
import { tasks } from '../catalogue/index.ts';
import type { Config } from '../config.ts';
import type { Database } from './database.ts';

/**
 * Celery's result backend, written by the database: with the switch on, triggers on
 * task_results write each task's `celery_taskmeta` row in the same statement (migration
 * 0010), so a Python `AsyncResult(id).get()` on `db+postgresql://…` reads our tasks.
 */
export interface CeleryResultsSettings {
  /** `CELERY_RESULTS=on`. @default false */
  readonly enabled: boolean;
  /** The stage: Celery's `worker` is the consumer function that ran the task, `<stage>-consumer-<queue>`. */
  readonly stage: string;
  /** The results bucket, named in the row of a result kept there (`RESULTS_BUCKET`). */
  readonly bucket: string | undefined;
}

export interface CeleryResultsOptions {
  /** Rows copied per statement by the backfill: a few hundred stay far inside the Data API's 45 s. @default 500 */
  readonly batchSize?: number;
  /** How long this run may backfill; the next run goes on from where it stopped. @default no limit */
  readonly backfillMs?: number;
  /** Runs each statement, retrying what a passing outage refuses (a resuming cluster). @default once */
  readonly retry?: <T>(statement: () => Promise<T>) => Promise<T>;
}

/** `on` once every row recorded before the switch has its Celery row; `backfilling` when the time ran out first. */
export type CeleryResultsState = 'off' | 'on' | 'backfilling';

export function celeryResultsSettings(config: Pick<Config, 'celeryResults' | 'stage' | 'database'>): CeleryResultsSettings {
  return { enabled: config.celeryResults, stage: config.stage, bucket: config.database.resultsBucket?.bucket };
}

/** Each catalogue task's Celery name, which is what a Python caller sent and reads back as `name`. */
function celeryNames(): Record<string, string> {
  return Object.fromEntries(Object.values(tasks).flatMap((task) => (task.alias ? [[task.name, task.alias]] : [])));
}

/**
 * Creates the triggers (and backfills what was recorded before them) or drops them, as the
 * switch says. Run after the migrations, by the local cloud on start and the stack's
 * migration function on deploy; with the switch off it only makes sure no trigger is left.
 */
export async function applyCeleryResults(database: Database, settings: CeleryResultsSettings, options: CeleryResultsOptions = {}): Promise<CeleryResultsState> {
  const retry = options.retry ?? ((statement) => statement());
  if (!settings.enabled) {
    await retry(() => database.rows(sql`select celery_results_disable() as done`));
    return 'off';
  }
  const triggerSettings = JSON.stringify({ stage: settings.stage, bucket: settings.bucket ?? null, names: celeryNames() });
  await retry(() => database.rows(sql`select celery_results_enable(${triggerSettings}::jsonb) as done`));
  const batchSize = options.batchSize ?? 500;
  const deadline = performance.now() + (options.backfillMs ?? Infinity);
  for (;;) {
    const [row] = await retry(() => database.rows<{ done: boolean }>(sql`select celery_results_backfill(${triggerSettings}::jsonb, ${batchSize}::int) as done`));
    if (row?.done) return 'on';
    if (performance.now() >= deadline) return 'backfilling';
  }
}
