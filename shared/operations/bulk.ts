import type { SQSClient } from '@aws-sdk/client-sqs';
import { laneName, type QueueName } from '../catalogue/index.ts';
import { newEnvelope } from '../envelope/envelope.ts';
import { tenantField, tenantOf } from '../envelope/tenant.ts';
import { reasonOf } from '../errors.ts';
import { resolveTask } from '../producer/send.ts';
import { actionStatuses, countMatching, failedPage, markRetried, purgePage, revokePage, statusesOf, type BulkAction, type BulkExample, type PageCursor } from '../results/bulk.ts';
import type { Database } from '../results/database.ts';
import type { HistoryFilter } from '../results/filter.ts';
import { sendMessages } from '../runtime/queue-actions.ts';
import type { Progress } from './dead-letters.ts';

export type { BulkAction, BulkExample } from '../results/bulk.ts';

export interface BulkOptions {
  /** Counts what the action would take, and shows a few, without acting. */
  readonly dryRun?: boolean;
  /** Why the tasks are revoked, kept as their error. @default 'revoked' */
  readonly reason?: string;
  /** After each page: tasks looked at so far, and how many matched at the start. */
  readonly onProgress?: Progress;
  /** Tasks per page (one statement each, and for a retry their messages). @default 100 */
  readonly pageSize?: number;
  /** Stops the run between pages; what the pages before did stays done, and a second run does the rest. */
  readonly signal?: AbortSignal;
}

export interface BulkOutcome {
  readonly action: BulkAction;
  readonly dryRun: boolean;
  /** Tasks the filter matched in the action's states when the run began. */
  readonly matched: number;
  /** Tasks retried (sent again), revoked or purged. */
  readonly affected: number;
  /** Tasks matched but left as they were, with why (the first hundred). */
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
  /** A dry run's first few matching tasks, oldest first. */
  readonly examples: readonly BulkExample[];
  /** The run stopped before the last page: run it again to finish. */
  readonly interrupted: boolean;
}

export interface BulkTargets {
  readonly sqs: SQSClient;
  readonly database: Database;
  readonly queueUrls: Readonly<Partial<Record<string, string>>>;
}

const examplesShown = 5;
const skippedShown = 100;

/**
 * Retries, revokes or purges every task a filter matches, page by page in keyset order, so
 * no page is loaded twice and none holds more than the Data API returns. Each page re-checks
 * the state it acts on, so a run interrupted and run again does nothing twice.
 */
export async function runBulk(targets: BulkTargets, action: BulkAction, filter: HistoryFilter, options: BulkOptions = {}): Promise<BulkOutcome> {
  const statuses = bulkStatuses(action, filter);
  const { count, examples } = await countMatching(targets.database, statuses, filter, options.dryRun ? examplesShown : 0);
  const outcome = { action, dryRun: options.dryRun === true, matched: count, affected: 0, skipped: [] as { id: string; reason: string }[], examples, interrupted: false };
  if (options.dryRun || count === 0) return outcome;
  const pageSize = options.pageSize ?? 100;
  const skip = (id: string, reason: string) => {
    if (outcome.skipped.length < skippedShown) outcome.skipped.push({ id, reason });
  };
  let after: PageCursor | undefined;
  let looked = 0;
  for (;;) {
    if (options.signal?.aborted) return { ...outcome, interrupted: true };
    const page = action === 'retry'
      ? await retryPage(targets, filter, after, pageSize, skip)
      : action === 'revoke'
        ? await revokePage(targets.database, statuses, filter, after, pageSize, options.reason ?? 'revoked')
        : await purgePage(targets.database, statuses, filter, after, pageSize);
    if (page.ids.length === 0) return outcome;
    if (page.overflowKeys.length > 0) await targets.database.overflow?.delete(page.overflowKeys);
    outcome.affected += page.acted.length;
    looked += page.ids.length;
    options.onProgress?.(looked, count);
    // A short page of revoke or purge was the last; a retry's page may be short for its bytes alone.
    if (action !== 'retry' && page.ids.length < pageSize) return outcome;
    after = page.next;
  }
}

/** A filter that can match nothing the action takes: the caller's mistake. */
export class BulkFilterError extends Error {
  override name = 'BulkFilterError';
}

/** The states the action takes under the filter; refused when its `status` is one the action never touches. */
export function bulkStatuses(action: BulkAction, filter: Pick<HistoryFilter, 'status'>) {
  const statuses = statusesOf(action, filter.status);
  if (statuses.length === 0) throw new BulkFilterError(`${action} takes tasks in ${actionStatuses[action].join(', ')}; status ${filter.status} matches none`);
  return statuses;
}

/** Sends the page's failures again under their ids, as `retry(id)` does, then marks those sent so no later run sends them twice. */
async function retryPage(targets: BulkTargets, filter: HistoryFilter, after: PageCursor | undefined, limit: number, skip: (id: string, reason: string) => void) {
  const rows = await failedPage(targets.database, filter, after, limit);
  const messages = rows.flatMap((row) => {
    try {
      return [{ key: row, message: retryMessage({ ...row, payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown) }) }];
    } catch (error) {
      skip(row.id, reasonOf(error));
      return [];
    }
  });
  const unsent = await sendMessages(targets.sqs, targets.queueUrls, messages);
  for (const row of unsent) skip(row.id, 'its message could not be sent; run again to retry it');
  const acted = await markRetried(targets.database, messages.filter((m) => !unsent.has(m.key)).map(({ key }) => ({ id: key.id, doneAt: key.doneAt })));
  const last = rows.at(-1);
  return { ids: rows.map((row) => row.id), acted, overflowKeys: [], next: last ? { createdAt: last.cursorAt, id: last.id } : undefined };
}

/**
 * The message that sends a failed task again under its id, one or many: its stored payload,
 * in the tenant group it ran in (a producer may have named it), to its catalogue's lane.
 */
export function retryMessage(task: { readonly id: string; readonly name: string; readonly payload: unknown; readonly tenant: string | null }) {
  const definition = resolveTask(task.name);
  const { payload } = task;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new Error('no payload is stored for it');
  if ((payload as { truncated?: unknown }).truncated === true) throw new Error('its stored payload was summarised; redrive its message from the dead-letter queue instead');
  const record = payload as Record<string, unknown>;
  const envelope = newEnvelope(definition.name, record, { id: task.id, ...tenantField(task.tenant ?? tenantOf(definition.tenant, record)) });
  const priority = definition.priority ?? 'normal';
  return { queue: definition.queue as QueueName, priority, lane: laneName(definition.queue, priority), body: JSON.stringify(envelope), envelope };
}
