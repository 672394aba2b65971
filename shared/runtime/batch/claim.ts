import type { QueueDefinition } from '../../catalogue/index.ts';
import type { Database } from '../../results/database.ts';
import { claimTasks, type ClaimResult } from '../../results/statements.ts';
import type { Due } from './admit.ts';
import { countedGroup } from '../workflow.ts';
import { inUtc } from './plan.ts';

/**
 * Claims the admitted tasks in one statement: each gets a lease and its attempt, or what
 * stops it (finished, revoked, held). The lease runs for the queue's consumer timeout, and
 * the row names `worker`, the invocation holding it.
 */
export async function claim(admitted: readonly Due[], database: Database, queue: QueueDefinition, worker: string): Promise<Map<string, ClaimResult>> {
  if (admitted.length === 0) return new Map();
  const requests = admitted.map(({ plan }) => {
    // A group member's result is that of the task ending its flow: only that one is filed under the group.
    const group = countedGroup(plan.envelope);
    return {
      id: plan.envelope.id,
      name: plan.implementation.definition.name,
      queue: queue.name,
      payload: plan.envelope.payload,
      createdAt: inUtc(plan.envelope.createdAt),
      ...(group ? { groupId: group.id, groupIndex: group.index } : {}),
    };
  });
  const claims = await claimTasks(database, requests, queue.timeoutSeconds, worker);
  return new Map(claims.map((claimed) => [claimed.id, claimed]));
}
