import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BatchRun, type ConsumerSettings } from './batch.ts';

export type { ConsumerSettings } from './batch.ts';

/**
 * The Lambda handler of one queue's consumer: Powertools logging around a partial-batch
 * response, so each message succeeds or fails on its own.
 */
export function createConsumer(settings: ConsumerSettings) {
  const consume = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // A processor per invocation: the local cloud runs several invocations of one handler at once.
    const processor = new BatchProcessor(EventType.SQS);
    const batch = new BatchRun(settings, event.Records, context);
    return processPartialResponse(event, (record: SQSRecord) => batch.handle(record), processor, {
      context,
      // Records wait for one another at the batch's single write, so they must run together.
      processInParallel: true,
      // A batch whose every task failed is still a handled batch, not a Lambda error.
      throwOnFullBatchFailure: false,
    });
  };
  // No logMetrics middleware: each batch publishes one EMF document per task itself
  // (BatchRun), and the middleware's flush would only warn that nothing is left.
  return middy(consume).use(injectLambdaContext(settings.logger));
}
