import { GetQueueAttributesCommand, PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parseRate, policyChangeErrors, queues, type PolicyChange, type QueueName } from '../catalogue/index.ts';
import { PermanentError } from '../errors.ts';
import { resolveTask } from '../producer/send.ts';
import type { Database } from '../results/database.ts';
import { readTaskPolicies, resetPolicyOverride, setConcurrencyOverride, setRateLimitOverride, setTimeLimitOverride } from '../results/policies.ts';
import { registeredOf, type RegisteredTask } from './inspect.ts';

/** A policy change that cannot apply: the operator's input, refused with every reason. */
export class PolicyChangeError extends PermanentError {
  override name = 'PolicyChangeError';
}

/**
 * Changes a task's rate limit, time limits or concurrency limit at run time (Celery's
 * `control rate_limit` and `time_limit`), for every consumer: stored in the result store, which consumers read
 * again within seconds. `task` is a catalogue name or a Celery alias. Returns the task as
 * `inspect registered` now shows it.
 */
export async function changePolicy(database: Database, task: string, change: PolicyChange): Promise<RegisteredTask> {
  const definition = resolveTask(task);
  const errors = policyChangeErrors(definition, queues[definition.queue as QueueName], change);
  if (errors.length > 0) throw new PolicyChangeError(`cannot change ${definition.name}: ${errors.join('; ')}`);
  if (change.kind === 'rate-limit') await setRateLimitOverride(database, definition.name, parseRate(change.rate)!.text);
  else if (change.kind === 'concurrency') await setConcurrencyOverride(database, definition.name, change.limit);
  else await setTimeLimitOverride(database, definition.name, change.softSeconds, change.hardSeconds);
  return registeredOf(definition, (await readTaskPolicies(database)).get(definition.name));
}

/** Drops every run-time change to a task's policy: the catalogue's applies again. */
export async function resetPolicy(database: Database, task: string): Promise<RegisteredTask & { readonly reset: boolean }> {
  const definition = resolveTask(task);
  const reset = await resetPolicyOverride(database, definition.name);
  return { ...registeredOf(definition, undefined), reset };
}

/**
 * Deletes every message of a task queue (Celery's `purge`): waiting, delayed and in flight.
 * SQS allows one purge per queue a minute and may take up to a minute to finish; returns
 * how many messages SQS counted just before. One-time schedules of long ETAs are not
 * messages yet: `inspect scheduled` lists them, and revoking a task deletes its schedule.
 */
export async function purgeQueue(sqs: SQSClient, queueUrl: string): Promise<{ purged: number }> {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({
    QueueUrl: queueUrl,
    AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
  }));
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  return { purged: Object.values(Attributes).reduce((sum, count) => sum + Number(count), 0) };
}
