import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/results/database.ts';
import { runCeleryScript } from './celery-python.ts';
import { waitFor } from './wait.ts';

/**
 * Celery reading our results (test/fixtures/celery/results.py): through its SQLAlchemy backend
 * where it can connect (PostgreSQL), or, where it cannot (PGlite runs inside the test process
 * and listens on no socket), from celery_taskmeta's rows read here and decoded by Celery's
 * backend exactly as after its own query.
 */
export interface Described { json: unknown; repr: string; type: string }
export interface Raised { type: string; module: string; message: string; args: Described; celery_revoked: boolean }
export type Info = Described | { exception: Raised };
export interface Read {
  state: string;
  status: string;
  info: Info;
  value?: Described;
  raised?: Raised;
  traceback: string | null;
  date_done_age_seconds: number | null;
  date_done_naive: boolean | null;
  extended?: { name: string | null; args: unknown; kwargs: unknown; worker: string | null; retries: number | null; queue: string | null };
}
export type Op = { op: string; id?: string; [key: string]: unknown };

/** SQLAlchemy 1.4 knows PostgreSQL as `postgresql://`, not `postgres://`. */
export const pythonUrl = (url: string) => url.replace(/^postgres:\/\//, 'postgresql://');

/** celery_taskmeta's rows, bytea as hex, as results.py takes them where Celery cannot connect. */
export async function celeryRows(database: Database, ids: readonly string[]) {
  return database.rows<Record<string, unknown>>(sql`
    select task_id, status, encode(result, 'hex') as result, date_done::text as date_done, traceback, name,
      encode(args, 'hex') as args, encode(kwargs, 'hex') as kwargs, worker, retries, queue
    from celery_taskmeta where task_id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`);
}

/** A store Celery reads: its connection (PostgreSQL) or its rows (PGlite). */
export interface CelerySource {
  readonly database: Database;
  readonly url: string | undefined;
  readonly schema: string | undefined;
}

export async function celeryAnswers<T = Read>(source: CelerySource, ops: readonly Op[], options: { extended?: boolean } = {}): Promise<T[]> {
  const from = source.url
    ? { url: pythonUrl(source.url), schema: source.schema }
    : { rows: await celeryRows(source.database, ops.flatMap((op) => (op.id ? [op.id] : []))) };
  const run = runCeleryScript<{ answers: T[] }>('results.py', { source: from, extended: options.extended ?? true, ops });
  return (await run.answer).answers;
}

export type Steps = { state: string; info: Info }[];

/** The distinct states (and info) of tasks as Celery reads them while they run, from before they are sent. */
export async function watchStates(source: CelerySource, ids: readonly string[], send: () => Promise<void>, ended: () => Promise<boolean>): Promise<Record<string, Steps>> {
  if (source.url) {
    const run = runCeleryScript<{ answers: Record<string, Steps>[] }>('results.py', { source: { url: pythonUrl(source.url), schema: source.schema }, ops: [{ op: 'watch', ids, timeout: 30 }] });
    await run.ready;
    await send();
    return (await run.answer).answers[0]!;
  }
  // No connection from Python: each distinct row, captured as it changes, is decoded by Celery afterwards.
  const snapshots = new Map<string, Record<string, unknown>[]>(ids.map((id) => [id, []]));
  await send();
  await waitFor(async () => {
    // The end is checked first: Celery's row is written in the same transaction, so the last snapshot shows it too.
    const done = await ended();
    for (const row of await celeryRows(source.database, ids)) {
      const rows = snapshots.get(row.task_id as string)!;
      if (JSON.stringify(row) !== JSON.stringify(rows.at(-1))) rows.push(row);
    }
    return done;
  }, 30_000, 'the tasks to end');
  const watched: Record<string, Steps> = {};
  for (const [id, rows] of snapshots) {
    const reads = await celeryAnswers(source, rows.map((row) => ({ op: 'read', id, wait: false, row })));
    watched[id] = reads.map((read) => ({ state: read.state, info: read.info }));
  }
  return watched;
}
