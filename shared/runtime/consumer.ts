import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
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
  const consume = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => processBatch(event.Records, settings, context.getRemainingTimeInMillis());
  // No logMetrics middleware: each batch publishes its own EMF documents (batch/report.ts),
  // and the middleware's flush would only warn that nothing is left.
  return middy(consume).use(injectLambdaContext(settings.logger));
}
