import type { SQSRecord } from 'aws-lambda';
import type { ConcurrencyLimit } from '../../catalogue/index.ts';
import { taskMetrics } from '../../observability/index.ts';
import type { ParsedMessage } from '../parse.ts';
import { fieldsOf, type Outcome } from './outcome.ts';

/** Held back by its task's rate limit in force (`rateLimit`): it waits, unclaimed, without spending an attempt. */
export function throttled(plan: ParsedMessage, record: SQSRecord, seconds: number, rateLimit: string | undefined): Outcome {
  const task = plan.implementation.definition;
  return {
    step: { kind: 'delay', seconds },
    report: { level: 'info', message: 'rate limit reached; the task waits without spending an attempt', task: task.name, metric: taskMetrics.throttled, fields: { ...fieldsOf(plan, record), rateLimit, retryInSeconds: seconds } },
  };
}

/**
 * How long a task waits for a slot before it looks again: a second, doubling with each
 * receive of its message, jittered, at most a minute (or the queue's timeout). A slot frees
 * when a running task ends, which no consumer can see coming; each look is a receive, which
 * the queue's `maxReceiveCount` allows for (catalogue/derive.ts).
 */
export function slotWaitSeconds(receiveCount: number, timeoutSeconds: number, random: () => number): number {
  const ceiling = Math.min(60, timeoutSeconds, 2 ** Math.min(10, Math.max(0, receiveCount - 1)));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

/** Held back because every slot of its concurrency key is taken: it waits, unclaimed, without spending an attempt. */
export function waitingForSlot(plan: ParsedMessage, record: SQSRecord, concurrency: ConcurrencyLimit | undefined, seconds: number): Outcome {
  return {
    step: { kind: 'delay', seconds },
    report: { level: 'info', message: 'concurrency limit reached; the task waits without spending an attempt', task: plan.implementation.definition.name, metric: taskMetrics.throttled, fields: { ...fieldsOf(plan, record), concurrency: concurrency?.limit, concurrencyKey: concurrency?.key, retryInSeconds: seconds } },
  };
}
