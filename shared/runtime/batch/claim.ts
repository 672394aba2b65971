import type { QueueDefinition, TaskDefinition } from '../../catalogue/index.ts';
import type { Database } from '../../results/database.ts';
import { claimTasks, type ClaimResult } from '../../results/claim.ts';
import { tenantOf } from '../../envelope/tenant.ts';
import type { Due } from './admit.ts';
import { countedGroup } from '../workflow.ts';
import { inUtc } from './plan.ts';
import type { TaskPolicies } from './policies.ts';

/**
 * The slot key of a concurrency-limited task: its name, and the key field's value when the
 * limit is per key (a payload without the field shares the name's slots).
 */
export function slotOf(definition: TaskDefinition, payload: Readonly<Record<string, unknown>>, policies: TaskPolicies): { key: string; limit: number } | undefined {
  const limit = policies.of(definition).concurrency;
  if (!limit) return undefined;
  const value = limit.key === undefined ? undefined : payload[limit.key];
  const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  return { key: scalar === undefined ? definition.name : `${definition.name}:${scalar}`, limit: limit.limit };
}

/**
 * Claims the admitted tasks in one statement: each gets a lease and its attempt, or what
 * stops it (finished, revoked, held). The lease runs for the queue's consumer timeout, and
 * the row names `worker`, the invocation holding it.
 */
export async function claim(admitted: readonly Due[], database: Database, queue: QueueDefinition, worker: string, policies: TaskPolicies): Promise<Map<string, ClaimResult>> {
  if (admitted.length === 0) return new Map();
  const requests = admitted.map(({ plan }) => {
    // A group member's result is that of the task ending its flow: only that one is filed under the group.
    const group = countedGroup(plan.envelope);
    const { definition } = plan.implementation;
    const concurrency = slotOf(definition, plan.envelope.payload, policies);
    // A Celery producer names no tenant: the catalogue's tenant field still tells whom the task runs for.
    const tenant = tenantOf(definition.tenant, plan.envelope.payload, plan.envelope.tenant);
    return {
      ...(concurrency ? { concurrency } : {}),
      id: plan.envelope.id,
      name: definition.name,
      queue: queue.name,
      payload: plan.envelope.payload,
      createdAt: inUtc(plan.envelope.createdAt),
      ...(tenant ? { tenant } : {}),
      ...(group ? { groupId: group.id, groupIndex: group.index } : {}),
    };
  });
  const claims = await claimTasks(database, requests, queue.timeoutSeconds, worker);
  return new Map(claims.map((claimed) => [claimed.id, claimed]));
}
