/**
 * Round trips per task, counted: SQS requests through a middleware on the consumer's own
 * SQSClient (each HTTP attempt, retries included; the producer has a client of its own),
 * SQL statements through `openDatabase`'s `onStatement` hook. The figures come from the
 * throughput run's consumer pass, where batches are full.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Figure } from './figures.ts';
import type { ThroughputResult } from './throughput.ts';

/** SQS bills each 64 KiB chunk of a request's payload as one request. */
const billingChunkBytes = 64 * 1024;

export interface RequestCount {
  /** HTTP requests by SQS action (`ReceiveMessage`, `DeleteMessageBatch`, …). */
  readonly byAction: Record<string, number>;
  total: number;
  /** Requests as SQS bills them: one per 64 KiB chunk of the larger of what was sent and the messages received. */
  billed: number;
}

/** Counts every request the client sends from now on. */
export function countSqsRequests(sqs: SQSClient): RequestCount {
  const count: RequestCount = { byAction: {}, total: 0, billed: 0 };
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const action = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      count.byAction[action] = (count.byAction[action] ?? 0) + 1;
      count.total++;
      const body = (args.request as { body?: unknown }).body;
      const sentBytes = typeof body === 'string' ? Buffer.byteLength(body) : 0;
      let receivedBytes = 0;
      try {
        const result = await next(args);
        const messages = (result.output as { Messages?: { Body?: string }[] }).Messages ?? [];
        receivedBytes = messages.reduce((total, message) => total + Buffer.byteLength(message.Body ?? ''), 0);
        return result;
      } finally {
        count.billed += Math.max(1, Math.ceil(Math.max(sentBytes, receivedBytes) / billingChunkBytes));
      }
    },
    // Below the retry middleware: each attempt is a request.
    { step: 'finalizeRequest', priority: 'low', name: 'benchRequestCounter' },
  );
  return count;
}

/** Requests per task of one action, or of several summed. */
export function perTask(count: Pick<RequestCount, 'byAction'>, tasks: number, ...actions: string[]): number {
  return actions.reduce((total, action) => total + (count.byAction[action] ?? 0), 0) / tasks;
}

export function roundTripFigures(run: ThroughputResult): Figure[] {
  const { consumer, tasks, label } = run;
  const part = 'round-trips';
  const at = `${label}, batch ${run.settings.batchSize}`;
  const known = ['ReceiveMessage', 'DeleteMessageBatch', 'ChangeMessageVisibilityBatch'];
  const other = Object.keys(consumer.requests.byAction).filter((action) => !known.includes(action));
  return [
    { part, name: `SQL statements per task (${at})`, value: consumer.statements / tasks, unit: 'statements', digits: 3, target: { at: 'most', value: 0.2 } },
    { part, name: `SQS requests per task, consumer (${at})`, value: consumer.requests.total / tasks, unit: 'requests', digits: 3, target: { at: 'most', value: 0.4 } },
    { part, name: `  of which ReceiveMessage (${label})`, value: perTask(consumer.requests, tasks, 'ReceiveMessage'), unit: 'requests', digits: 3 },
    { part, name: `  of which DeleteMessageBatch (${label})`, value: perTask(consumer.requests, tasks, 'DeleteMessageBatch'), unit: 'requests', digits: 3 },
    { part, name: `  of which ChangeMessageVisibilityBatch (${label})`, value: perTask(consumer.requests, tasks, 'ChangeMessageVisibilityBatch'), unit: 'requests', digits: 3 },
    ...(other.length > 0 ? [{ part, name: `  of which other: ${other.join(', ')} (${label})`, value: perTask(consumer.requests, tasks, ...other), unit: 'requests', digits: 3 } as const] : []),
    { part, name: `mean batch per invocation (${label})`, value: consumer.meanBatch, unit: 'tasks', digits: 2 },
  ];
}
