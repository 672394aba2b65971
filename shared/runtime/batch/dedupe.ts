import type { SQSRecord } from 'aws-lambda';
import { tenantField, tenantOf } from '../../envelope/tenant.ts';
import { dedupeKeyOf, keyRule } from '../../envelope/dedupe-key.ts';
import { taskMetrics } from '../../observability/index.ts';
import type { Database } from '../../results/database.ts';
import { latestDebounced, takeUniqueKey } from '../../results/task-keys.ts';
import type { ParsedMessage } from '../parse.ts';
import { abandonedByFailure } from '../workflow-failure.ts';
import type { Due } from './admit.ts';
import type { Decisions } from './decide.ts';
import type { Outcome } from './outcome.ts';
import { inUtc } from './plan.ts';

/** What a task's key says: run now, folded into the first send of its window, superseded by a later send, or wait out its quiet window. */
export type KeyVerdict =
  | { readonly kind: 'run' }
  | { readonly kind: 'folded'; readonly into: string }
  | { readonly kind: 'debounced'; readonly by: string }
  | { readonly kind: 'wait'; readonly seconds: number };

/**
 * A debounced send's verdict once the latest send of its key is known. A key first seen
 * here (its producer recorded nothing: a plain SQS send) waits a whole window from now, so
 * later sends already on their way can arrive and take it over.
 */
export function debounceVerdict(taskId: string, latest: { taskId: string; sentAt: number; firstSeen: boolean }, seconds: number, now: number): KeyVerdict {
  if (latest.taskId !== taskId) return { kind: 'debounced', by: latest.taskId };
  const due = (latest.firstSeen ? now : latest.sentAt) + seconds * 1000;
  return due <= now ? { kind: 'run' } : { kind: 'wait', seconds: Math.max(1, Math.ceil((due - now) / 1000)) };
}

/**
 * The verdicts of the due tasks that are unique or debounced, a statement each (tasks
 * without a rule cost nothing): the key's row in `task_keys` says which send holds it.
 */
export async function checkKeys(due: readonly Due[], database: Database, now: number): Promise<Map<SQSRecord, KeyVerdict>> {
  const verdicts = new Map<SQSRecord, KeyVerdict>();
  for (const { record, plan } of due) {
    const definition = plan.implementation.definition;
    const rule = keyRule(definition);
    if (!rule) continue;
    const { envelope } = plan;
    const key = dedupeKeyOf(definition.name, envelope.payload, definition.dedupeKey, envelope.dedupeKey);
    if (rule.mode === 'unique') {
      const holder = await takeUniqueKey(database, key, envelope.id, rule.seconds);
      verdicts.set(record, holder === envelope.id ? { kind: 'run' } : { kind: 'folded', into: holder });
    } else {
      verdicts.set(record, debounceVerdict(envelope.id, await latestDebounced(database, key, envelope.id, inUtc(envelope.createdAt), rule.seconds), rule.seconds, now));
    }
  }
  return verdicts;
}

/** What a verdict other than `run` does to the message: a task folded or superseded ends REVOKED with why; a waiting one is hidden until its window ends. */
export function keyOutcome(plan: ParsedMessage, record: SQSRecord, verdict: KeyVerdict, d: Decisions): Outcome | undefined {
  if (verdict.kind === 'run') return undefined;
  if (verdict.kind === 'wait') return { step: { kind: 'delay', seconds: verdict.seconds } };
  const { envelope } = plan;
  const task = plan.implementation.definition.name;
  const reason = verdict.kind === 'folded' ? `unique: the same request as ${verdict.into}` : 'debounced';
  return {
    step: { kind: 'ack' },
    row: { id: envelope.id, name: task, queue: d.queue, status: 'REVOKED', error: reason, payload: envelope.payload, createdAt: inUtc(envelope.createdAt), ...tenantField(tenantOf(plan.implementation.definition.tenant, envelope.payload, envelope.tenant)) },
    report: { level: 'info', message: `task revoked: ${reason}`, task, metric: taskMetrics.revoked, fields: { taskId: envelope.id, messageId: record.messageId, reason } },
    abandoned: abandonedByFailure(d.lookup, envelope, `revoked: ${reason}`),
  };
}
