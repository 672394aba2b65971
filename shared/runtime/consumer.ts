import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { PolicyCache } from './batch/policies.ts';
import { processBatch } from './batch/process-batch.ts';
import type { ConsumerSettings } from './batch/settings.ts';

export type { ConsumerSettings } from './batch/settings.ts';

/**
 * The Lambda handler of one queue's consumer: Powertools logging around the batch
 * pipeline, which answers with a partial-batch response so each message succeeds or
 * fails on its own. No batch processor: the pipeline decides the records together (one
 * claim and one write for the batch), which the processor's one-record-at-a-time handler
 * could only do by making records wait for each other.
 */
export function createConsumer(settings: ConsumerSettings) {
  // Kept for the life of the execution environment, as the database handle is.
  const policies = new PolicyCache(settings.policyRefreshMs);
  const consume = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processBatch(event.Records, settings, { remainingMs: context.getRemainingTimeInMillis(), worker: workerOf(context), policies });
  // No logMetrics middleware: each batch publishes its own EMF documents (batch/report.ts),
  // and the middleware's flush would only warn that nothing is left.
  return middy(consume).use(injectLambdaContext(settings.logger));
}

/** The invocation as `inspect active` names it: enough to find its logs (Powertools logs carry the request id). */
export function workerOf(context: Pick<Context, 'functionName' | 'awsRequestId'>): string {
  return `${context.functionName}:${context.awsRequestId}`.slice(0, 200);
}
