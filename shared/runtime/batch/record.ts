import { isPermanentRefusal } from '../../errors.ts';
import { finishTasks, type FinishResult, type TaskOutcomeRow } from '../../results/finish.ts';
import { abandonedByFailure } from '../workflow-failure.ts';
import type { TaskLookup } from '../workflow.ts';
import type { Outcomes } from './outcome.ts';
import type { BatchContext } from './settings.ts';

/** The batch's write: what the store said, or that it could not be reached (then every written outcome waits). */
export type Recorded = ({ readonly ok: true } & FinishResult) | { readonly ok: false };

const nothing: Recorded = { ok: true, superseded: new Map(), completedChords: new Set(), refused: new Map() };

/**
 * Records every outcome in one statement (more only when the rows outgrow a statement's
 * size), then the workflow steps that an outcome refused for good leaves without a future.
 */
export async function record(outcomes: Outcomes, lookup: TaskLookup, batch: BatchContext): Promise<Recorded> {
  const rows = uniqueRows([...outcomes.values()].flatMap((outcome) => [...(outcome.row ? [outcome.row] : []), ...(outcome.abandoned ?? [])]));
  if (rows.length === 0) return nothing;
  const { logger } = batch.settings;
  let recorded: FinishResult;
  try {
    recorded = await finishTasks(await batch.settings.database(), rows, { retry: (write) => withRetries(write, batch.end) });
  } catch (error) {
    logger.error('could not record outcomes; the batch will be retried', { error });
    return { ok: false };
  }
  // Recorded as the task's failure: what it returned could not be kept, so the workflow steps after it end too, saying why.
  const orphans = [...outcomes.values()].flatMap((outcome) => {
    const reason = outcome.row && recorded.refused.get(outcome.row.id);
    return reason && outcome.envelope ? abandonedByFailure(lookup, outcome.envelope, reason) : [];
  });
  if (orphans.length > 0) {
    try {
      await finishTasks(await batch.settings.database(), uniqueRows(orphans), { retry: (write) => withRetries(write, batch.end) });
    } catch (error) {
      logger.error('could not record the workflow steps a refused outcome abandons', { error });
    }
  }
  return { ok: true, ...recorded };
}

/** One row per id: a task's own outcome wins over a row abandoning it on another's behalf. */
export function uniqueRows(rows: readonly TaskOutcomeRow[]): TaskOutcomeRow[] {
  const byId = new Map<string, TaskOutcomeRow>();
  for (const row of rows) {
    const kept = byId.get(row.id);
    if (!kept || (kept.fence === undefined && row.fence !== undefined)) byId.set(row.id, row);
  }
  return [...byId.values()];
}

/** Retries a write a few times while the invocation has time: a resuming Aurora cluster answers within seconds. */
async function withRetries<T>(write: () => Promise<T>, end: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const pause = 250 * 4 ** (attempt - 1);
      if (attempt >= 3 || isPermanentRefusal(error) || Date.now() + pause >= end - 1_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
