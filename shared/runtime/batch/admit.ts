import type { SQSRecord } from 'aws-lambda';
import type { RateLimit } from '../../catalogue/index.ts';
import type { Database } from '../../results/database.ts';
import { takeRateTokens } from '../../results/statements.ts';
import type { ParsedMessage } from '../parse.ts';
import { throttleWaits } from './plan.ts';
import type { TaskPolicies } from './policies.ts';

/** A due task, ready to be admitted and claimed. */
export interface Due {
  readonly record: SQSRecord;
  readonly plan: ParsedMessage;
}

/**
 * Takes rate-limit tokens for the due tasks whose task has a rate limit in force (the
 * catalogue's, or an operator's change), in one statement (none when no task of the batch
 * has one). Returns the records that got none, with how long each waits for about when its turn comes.
 */
export async function admit(due: readonly Due[], database: Database, random: () => number, policies: TaskPolicies): Promise<Map<SQSRecord, number>> {
  const limited = new Map<string, { limit: RateLimit; records: SQSRecord[] }>();
  for (const { record, plan } of due) {
    const definition = plan.implementation.definition;
    const limit = policies.of(definition).rate;
    if (!limit) continue;
    const entry = limited.get(definition.name) ?? { limit, records: [] };
    entry.records.push(record);
    limited.set(definition.name, entry);
  }
  const throttled = new Map<SQSRecord, number>();
  if (limited.size === 0) return throttled;
  const granted = await takeRateTokens(
    database,
    [...limited].map(([task, { limit, records }]) => ({ task, wanted: records.length, perSecond: limit.perSecond, burst: limit.burst })),
  );
  for (const [task, { limit, records }] of limited) {
    const waiting = records.slice(granted.get(task) ?? 0);
    throttleWaits(waiting.length, limit.perSecond, random).forEach((seconds, n) => throttled.set(waiting[n]!, seconds));
  }
  return throttled;
}
